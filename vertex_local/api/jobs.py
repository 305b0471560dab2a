"""The v1 JobService for custom jobs: create, get, cancel; each job runs in a background thread.

TFX's Vertex trainer (training_clients.VertexJobClient via runner._launch_cloud_training)
creates a CustomJob, reads it at once, then sleeps 30 s between reads until it ends. GAPIC gives
GetCustomJob no deadline by default (default_timeout=None in the v1 job_service transport), so
GetCustomJob holds the call up to HOLD_SECONDS (never past the client's deadline) while the job
runs: a short job is seen finished on the first read, without TFX's 30 s sleep.
"""

import datetime
import threading
import time
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Tuple

import grpc
from google.cloud.aiplatform_v1.types import job_service
from google.cloud.aiplatform_v1.types import job_state
from google.protobuf import empty_pb2
from google.rpc import status_pb2

from vertex_local.api import checks, workers
from vertex_local.api.registry import CustomJob, Registry
from vertex_local.api.rpc import Method, RpcError, not_found, proto_method

HOLD_SECONDS = 3.0
_POLL_SECONDS = 0.05
State = job_state.JobState
_ENDED = (State.JOB_STATE_SUCCEEDED, State.JOB_STATE_FAILED, State.JOB_STATE_CANCELLED)
# google.rpc.Code values for a CustomJob's `error`.
_CODE_CANCELLED, _CODE_FAILED, _CODE_ABORTED = 1, 3, 10


def _now() -> datetime.datetime:
  return datetime.datetime.now(datetime.timezone.utc)


class JobRun:
  """Starts every replica of one job and reports how the job ended.

  The job fails as soon as one replica fails (the others are stopped, as on Vertex AI). It
  succeeds when every replica has exited 0, parameter servers aside: they serve until the
  training replicas are done, and are then stopped.
  """

  def __init__(self, specs: List[workers.ReplicaSpec], launcher: workers.Launcher,
               on_running: Callable[[], None], on_end: Callable[[int, int, str], None]):
    self._specs = specs
    self._launcher = launcher
    self._on_running = on_running
    self._on_end = on_end  # (JobState, google.rpc code, message)
    self._stop: Optional[Tuple[int, int, str]] = None
    self.done = threading.Event()
    self._thread = threading.Thread(target=self._run, name=f'custom-job {specs[0].job_name}',
                                    daemon=True)

  def start(self) -> None:
    self._thread.start()

  def stop(self, state: int, code: int, message: str, wait: bool = False) -> None:
    """Stops the replicas; the job ends in `state` with `message`."""
    self._stop = (state, code, message)
    if wait:
      self._thread.join()

  def _end(self, processes, state: int, code: int, message: str) -> None:
    workers.stop_all([process for _, process in processes])
    self._on_end(state, code, message)
    self.done.set()

  def _run(self) -> None:
    processes: List[Tuple[workers.ReplicaSpec, object]] = []
    for spec in self._specs:
      try:
        processes.append((spec, self._launcher(spec)))
      except Exception as error:  # pylint: disable=broad-except; any launcher failure fails the job
        self._end(processes, State.JOB_STATE_FAILED, _CODE_FAILED,
                  f'The replica {spec.replica_name} could not be started: {error}')
        return
    self._on_running()
    pending = list(processes)
    while True:
      if self._stop is not None:
        self._end(processes, *self._stop)
        return
      for spec, process in list(pending):
        returncode = process.poll()
        if returncode is None:
          continue
        pending.remove((spec, process))
        if returncode != 0:
          self._end(processes, State.JOB_STATE_FAILED, _CODE_FAILED,
                    workers.exit_message(spec, returncode))
          return
      if all(spec.pool_index == 2 for spec, _ in pending):
        self._end(processes, State.JOB_STATE_SUCCEEDED, 0, '')
        return
      time.sleep(_POLL_SECONDS)


class JobService:
  """CreateCustomJob / GetCustomJob / CancelCustomJob over the shared Registry."""

  def __init__(self, registry: Registry, lock: threading.RLock, logs_root: Path,
               launcher: workers.Launcher, client_env: Callable[[], Mapping[str, str]]):
    self._registry = registry
    self._lock = lock
    self._logs_root = logs_root
    self._launcher = launcher
    self._client_env = client_env
    self._runs: Dict[str, JobRun] = {}

  def log_dir(self, name: str) -> Path:
    return self._logs_root / name.rsplit('/', 1)[-1]

  def methods(self) -> Dict[str, Dict[str, Method]]:
    return {'google.cloud.aiplatform.v1.JobService': {
        'CreateCustomJob': proto_method(job_service.CreateCustomJobRequest, self._create,
                                        CustomJob),
        'GetCustomJob': proto_method(job_service.GetCustomJobRequest, self._get, CustomJob,
                                     wait=self._hold),
        'CancelCustomJob': proto_method(job_service.CancelCustomJobRequest, self._cancel),
    }}

  def fail_interrupted(self) -> None:
    """At start: jobs that were running when the last server stopped can never finish."""
    for job in self._registry.custom_jobs.values():
      if job.state not in _ENDED:
        self._set_end(job, State.JOB_STATE_FAILED, _CODE_ABORTED,
                      'The local Vertex AI server stopped while this job ran.')
    self._registry.save()

  def stop_all(self) -> None:
    """Stops every running job (called without the lock: jobs take it to record their end)."""
    with self._lock:
      runs = list(self._runs.values())
    for run in runs:
      run.stop(State.JOB_STATE_FAILED, _CODE_ABORTED,
               'The local Vertex AI server stopped while this job ran.', wait=True)

  def _job(self, name: str) -> CustomJob:
    if name not in self._registry.custom_jobs:
      raise not_found('CustomJob', name)
    return self._registry.custom_jobs[name]

  def _create(self, request) -> CustomJob:
    checks.check_region(request.parent)
    pools = request.custom_job.job_spec.worker_pool_specs
    if not pools or pools[0].replica_count != 1:
      raise RpcError(grpc.StatusCode.INVALID_ARGUMENT,
                     'job_spec.worker_pool_specs[0] must exist and have replica_count 1 (the '
                     'primary replica); other pools are optional.')
    for index, pool in enumerate(pools):
      if pool.replica_count and 'python_package_spec' in pool:
        raise RpcError(grpc.StatusCode.INVALID_ARGUMENT,
                       f'worker_pool_specs[{index}] uses python_package_spec, which the local '
                       'Vertex AI does not run; give it a container_spec with a command.')
    checks.check_worker_pools(pools)
    job = CustomJob.deserialize(CustomJob.serialize(request.custom_job))
    job.name = f'{request.parent}/customJobs/{self._registry.new_id()}'
    job.state = State.JOB_STATE_PENDING
    job.create_time = job.update_time = _now()
    self._registry.custom_jobs[job.name] = job
    self._registry.save()
    name = job.name
    run = JobRun(workers.replica_specs(job, self._client_env(), self.log_dir(name)),
                 self._launcher, on_running=lambda: self._running(name),
                 on_end=lambda state, code, message: self._ended(name, state, code, message))
    self._runs[name] = run
    run.start()
    return job

  def _running(self, name: str) -> None:
    with self._lock:
      job = self._registry.custom_jobs[name]
      if job.state == State.JOB_STATE_PENDING:
        job.state = State.JOB_STATE_RUNNING
        job.start_time = job.update_time = _now()
        self._registry.save()

  def _ended(self, name: str, state: int, code: int, message: str) -> None:
    with self._lock:
      self._set_end(self._registry.custom_jobs[name], state, code, message)
      self._registry.save()
      self._runs.pop(name, None)

  @staticmethod
  def _set_end(job: CustomJob, state: int, code: int, message: str) -> None:
    job.state = state
    job.end_time = job.update_time = _now()
    if state != State.JOB_STATE_SUCCEEDED:
      job.error = status_pb2.Status(code=code, message=message)

  def _hold(self, request, seconds_left: Optional[float]) -> None:
    with self._lock:
      run = self._runs.get(request.name)
    hold = HOLD_SECONDS if seconds_left is None else min(HOLD_SECONDS, seconds_left - 0.5)
    if run is not None and hold > 0:
      run.done.wait(hold)

  def _get(self, request) -> CustomJob:
    return self._job(request.name)

  def _cancel(self, request) -> empty_pb2.Empty:
    job = self._job(request.name)
    if job.state in _ENDED:
      raise RpcError(grpc.StatusCode.FAILED_PRECONDITION,
                     f'CustomJob {request.name!r} already ended ({job.state.name}).')
    job.state = State.JOB_STATE_CANCELLING
    job.update_time = _now()
    self._registry.save()
    run = self._runs.get(request.name)
    if run is not None:
      run.stop(State.JOB_STATE_CANCELLED, _CODE_CANCELLED, 'CustomJob was cancelled.')
    return empty_pb2.Empty()
