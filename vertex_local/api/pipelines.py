"""Vertex AI Pipelines' v1 PipelineService, as aiplatform's PipelineJob calls it
(aiplatform.compat.DEFAULT_VERSION is 'v1'): CreatePipelineJob, GetPipelineJob, ListPipelineJobs,
CancelPipelineJob and DeletePipelineJob.

A created job runs when the server was given a pipeline runner (the local engine's, in
vertex_local/service.py): one job at a time, in the order created, PENDING until its turn, then
RUNNING with each task's state in `job_detail.task_details` as it ends, then SUCCEEDED, FAILED
(with `error`) or CANCELLED. aiplatform's `PipelineJob.wait()` polls GetPipelineJob until one of
those. Without a runner (a server a test starts to see what clients send) jobs stay PENDING.
Jobs live in memory only. Schedules: schedules.py.
"""

import dataclasses
import datetime
import itertools
import queue
import threading
from typing import Any, Callable, Dict, List, Optional

import grpc
from google.cloud.aiplatform_v1.types import pipeline_job as pipeline_job_types
from google.cloud.aiplatform_v1.types import pipeline_service, pipeline_state
from google.protobuf import empty_pb2, json_format
from google.rpc import status_pb2

from vertex_local.api import listing
from vertex_local.api.operations import Operations
from vertex_local.api.rpc import Method, RpcError, not_found, proto_method

PipelineJob = pipeline_job_types.PipelineJob
TaskDetail = pipeline_job_types.PipelineTaskDetail
State = pipeline_state.PipelineState
ENDED = (State.PIPELINE_STATE_SUCCEEDED, State.PIPELINE_STATE_FAILED,
         State.PIPELINE_STATE_CANCELLED)
_CODE_CANCELLED, _CODE_UNKNOWN = 1, 2  # google.rpc.Code
_FILTER_FIELDS = ('display_name', 'pipeline_name', 'state', 'schedule_name', 'labels')


def _now() -> datetime.datetime:
  return datetime.datetime.now(datetime.timezone.utc)


@dataclasses.dataclass
class PipelineRun:
  """What a pipeline runner gets: the job, how to report its tasks, whether it is cancelled.
  The runner returns '' when the job succeeded, else why it failed; a cancelled job ends
  CANCELLED whatever it returns."""
  name: str  # the job's resource name
  job: Dict[str, Any]  # the PipelineJob as JSON: pipelineSpec, runtimeConfig, displayName, ...
  cancelled: threading.Event
  task_ended: Callable[[str, str, float, Optional[str]], None]  # name, state, seconds, error


PipelineRunner = Callable[[PipelineRun], str]


class PipelineService:
  """The jobs, and the worker thread that runs them one at a time through `runner`."""

  def __init__(self, lock: threading.RLock, runner: Optional[PipelineRunner] = None):
    self._lock = lock
    self._runner = runner
    self.pipeline_jobs: Dict[str, PipelineJob] = {}
    self._cancel: Dict[str, threading.Event] = {}
    self._ids = itertools.count(1001)
    self._queue: 'queue.Queue[Optional[str]]' = queue.Queue()
    self._worker: Optional[threading.Thread] = None

  def reset(self) -> None:
    self.pipeline_jobs = {}
    self._ids = itertools.count(1001)

  def methods(self) -> Dict[str, Dict[str, Method]]:
    service = pipeline_service
    return {'google.cloud.aiplatform.v1.PipelineService': {
        'CreatePipelineJob': proto_method(service.CreatePipelineJobRequest, self.create,
                                          PipelineJob),
        'GetPipelineJob': proto_method(service.GetPipelineJobRequest, self._get, PipelineJob),
        'ListPipelineJobs': proto_method(service.ListPipelineJobsRequest, self._list,
                                         service.ListPipelineJobsResponse),
        'CancelPipelineJob': proto_method(service.CancelPipelineJobRequest, self._cancel_job),
        'DeletePipelineJob': proto_method(service.DeletePipelineJobRequest, self._delete),
    }}

  def start(self, operations: Operations) -> None:
    self._operations = operations
    if self._runner is not None:
      self._worker = threading.Thread(target=self._work, name='pipeline-jobs', daemon=True)
      self._worker.start()

  def stop(self) -> None:
    """Cancels the running job and waits for the worker (called without the lock)."""
    with self._lock:
      for event in self._cancel.values():
        event.set()
    if self._worker is not None:
      self._queue.put(None)
      self._worker.join()
      self._worker = None

  def job(self, name: str) -> PipelineJob:
    if name not in self.pipeline_jobs:
      raise not_found('PipelineJob', name)
    return self.pipeline_jobs[name]

  def create(self, request, schedule_name: str = '') -> PipelineJob:
    job = PipelineJob.deserialize(PipelineJob.serialize(request.pipeline_job))
    job.name = f'{request.parent}/pipelineJobs/{request.pipeline_job_id or next(self._ids)}'
    if job.name in self.pipeline_jobs:
      raise RpcError(grpc.StatusCode.ALREADY_EXISTS, f'PipelineJob {job.name!r} already exists.')
    job.state = State.PIPELINE_STATE_PENDING
    job.create_time = job.update_time = _now()
    if schedule_name:
      job.schedule_name = schedule_name
    self.pipeline_jobs[job.name] = job
    self._cancel[job.name] = threading.Event()
    if self._runner is not None:
      self._queue.put(job.name)
    return job

  def _get(self, request) -> PipelineJob:
    return self.job(request.name)

  def _list(self, request) -> pipeline_service.ListPipelineJobsResponse:
    terms = listing.parse_filter(request.filter, _FILTER_FIELDS)
    jobs = [job for name, job in self.pipeline_jobs.items()
            if name.startswith(f'{request.parent}/pipelineJobs/') and
            listing.matches(terms, lambda field, job=job: _field(job, field))]
    ascending = request.order_by.strip().endswith('asc')  # default: newest first
    jobs.sort(key=lambda job: job.create_time, reverse=not ascending)
    return pipeline_service.ListPipelineJobsResponse(pipeline_jobs=jobs)

  def non_terminal(self, schedule_name: str) -> List[PipelineJob]:
    return [job for job in self.pipeline_jobs.values()
            if job.schedule_name == schedule_name and job.state not in ENDED]

  def _cancel_job(self, request) -> empty_pb2.Empty:
    job = self.job(request.name)
    if job.state in ENDED:
      raise RpcError(grpc.StatusCode.FAILED_PRECONDITION,
                     f'PipelineJob {request.name!r} is already in a terminal state '
                     f'{job.state.name}.')
    self._cancel[job.name].set()
    if job.state == State.PIPELINE_STATE_PENDING:  # not started: nothing to stop
      self._end(job, State.PIPELINE_STATE_CANCELLED, 'PipelineJob was cancelled.')
    else:
      job.state = State.PIPELINE_STATE_CANCELLING
      job.update_time = _now()
    return empty_pb2.Empty()

  def _delete(self, request):
    job = self.job(request.name)
    if job.state not in ENDED:
      raise RpcError(grpc.StatusCode.FAILED_PRECONDITION,
                     f'PipelineJob {request.name!r} is {job.state.name}: cancel it first.')

    def complete() -> empty_pb2.Empty:
      self.pipeline_jobs.pop(request.name, None)
      return empty_pb2.Empty()

    return self._operations.start(request.name, complete)

  def _end(self, job: PipelineJob, state: int, message: str) -> None:
    job.state = state
    job.end_time = job.update_time = _now()
    if state == State.PIPELINE_STATE_CANCELLED:
      job.error = status_pb2.Status(code=_CODE_CANCELLED, message=message)
    elif state == State.PIPELINE_STATE_FAILED:
      job.error = status_pb2.Status(code=_CODE_UNKNOWN, message=message)

  def _work(self) -> None:
    while True:
      name = self._queue.get()
      if name is None:
        return
      with self._lock:
        job = self.pipeline_jobs.get(name)
        if job is None or job.state != State.PIPELINE_STATE_PENDING:
          continue  # cancelled (or deleted) while it waited
        job.state = State.PIPELINE_STATE_RUNNING
        job.start_time = job.update_time = _now()
        run = PipelineRun(name, json_format.MessageToDict(PipelineJob.pb(job)),
                          self._cancel[name], lambda *task, n=name: self._task_ended(n, *task))
      error = self._runner(run)
      with self._lock:
        if run.cancelled.is_set():
          self._end(job, State.PIPELINE_STATE_CANCELLED, 'PipelineJob was cancelled.')
        elif error:
          self._end(job, State.PIPELINE_STATE_FAILED, error)
        else:
          self._end(job, State.PIPELINE_STATE_SUCCEEDED, '')

  def _task_ended(self, job_name: str, task: str, state: str, seconds: float,
                  error: Optional[str]) -> None:
    with self._lock:
      job = self.pipeline_jobs[job_name]
      end = _now()
      detail = TaskDetail(
          task_id=len(job.job_detail.task_details) + 1, task_name=task,
          state=TaskDetail.State[state], create_time=end - datetime.timedelta(seconds=seconds),
          start_time=end - datetime.timedelta(seconds=seconds), end_time=end)
      if error and state in ('FAILED', 'CANCELLED'):  # as Vertex fills `error`
        detail.error = status_pb2.Status(code=_CODE_UNKNOWN, message=error)
      job.job_detail.task_details.append(detail)
      job.update_time = end


def _field(job: PipelineJob, field: str) -> Any:
  if field.startswith('labels.'):
    return job.labels.get(field[len('labels.'):])
  if field == 'pipeline_name':
    return job.pipeline_spec.get('pipelineInfo', {}).get('name')
  if field == 'state':
    return job.state.name
  return getattr(job, field)
