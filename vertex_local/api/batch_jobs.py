"""The v1 JobService's batch prediction jobs: CreateBatchPredictionJob, Get, List and Cancel, as
aiplatform's `Model.batch_predict()` / `BatchPredictionJob.create()` call them.

A job predicts every instance of its input files (gcs_source: gs:// URIs, local here; JSONL or
CSV of raw rows) with a model version of the registry and writes, under its gcs_destination
prefix, a folder `prediction-<model display name>-<create time>` holding
`prediction.results-00000-of-00001` and `prediction.errors_stats-00000-of-00001` (serving/batch.py
writes them). The job runs in a background thread as `python -m serving batch` (the serving
package, as the serving image would), and ends SUCCEEDED with `completion_stats` (predicted and
failed instances) and `output_info.gcs_output_directory`, or FAILED with the reason.
"""

import datetime
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable, Dict, List

import grpc
from google.cloud.aiplatform_v1.types import completion_stats as completion_types
from google.cloud.aiplatform_v1.types import job_service, job_state
from google.protobuf import empty_pb2
from google.rpc import status_pb2

from vertex_local.api import checks, workers
from vertex_local.api.models import ModelService
from vertex_local.api.registry import BatchPredictionJob, Registry, gcs_path, versioned
from vertex_local.api.rpc import Method, RpcError, not_found, proto_method

State = job_state.JobState
_ENDED = (State.JOB_STATE_SUCCEEDED, State.JOB_STATE_FAILED, State.JOB_STATE_CANCELLED)
FORMATS = ('jsonl', 'csv')
_CODE_CANCELLED, _CODE_FAILED = 1, 3


def _now() -> datetime.datetime:
  return datetime.datetime.now(datetime.timezone.utc)


# (`python -m serving` arguments, log path) -> the started process, its stdout a pipe.
Runner = Callable[[List[str], Path], subprocess.Popen]


def run_locally(argv: List[str], log_path: Path) -> subprocess.Popen:
  log_path.parent.mkdir(parents=True, exist_ok=True)
  with log_path.open('ab') as log:
    return subprocess.Popen([sys.executable, '-m', 'serving', *argv], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=log, start_new_session=True)


class BatchPredictionJobs:

  def __init__(self, registry: Registry, lock: threading.RLock, models: ModelService,
               gcs_root: Path, logs_root: Path, runner: Runner = run_locally):
    self._registry = registry
    self._lock = lock
    self._models = models
    self._gcs_root = gcs_root
    self._logs_root = logs_root
    self._runner = runner
    self._processes: Dict[str, subprocess.Popen] = {}
    self._threads: List[threading.Thread] = []

  def methods(self) -> Dict[str, Dict[str, Method]]:
    service = job_service
    return {'google.cloud.aiplatform.v1.JobService': {
        'CreateBatchPredictionJob': proto_method(service.CreateBatchPredictionJobRequest,
                                                 self._create, BatchPredictionJob),
        'GetBatchPredictionJob': proto_method(service.GetBatchPredictionJobRequest, self._get,
                                              BatchPredictionJob),
        'ListBatchPredictionJobs': proto_method(service.ListBatchPredictionJobsRequest,
                                                self._list,
                                                service.ListBatchPredictionJobsResponse),
        'CancelBatchPredictionJob': proto_method(service.CancelBatchPredictionJobRequest,
                                                 self._cancel),
    }}

  def _job(self, name: str) -> BatchPredictionJob:
    if name not in self._registry.batch_prediction_jobs:
      raise not_found('BatchPredictionJob', name)
    return self._registry.batch_prediction_jobs[name]

  def _get(self, request) -> BatchPredictionJob:
    return self._job(request.name)

  def _list(self, request) -> job_service.ListBatchPredictionJobsResponse:
    return job_service.ListBatchPredictionJobsResponse(batch_prediction_jobs=[
        job for name, job in sorted(self._registry.batch_prediction_jobs.items())
        if name.startswith(f'{request.parent}/batchPredictionJobs/')])

  def _create(self, request) -> BatchPredictionJob:
    checks.check_region(request.parent)
    job = BatchPredictionJob.deserialize(BatchPredictionJob.serialize(
        request.batch_prediction_job))
    model = self._models.model(job.model)
    source = job.input_config.gcs_source.uris
    if job.input_config.instances_format not in FORMATS or not source:
      raise RpcError(grpc.StatusCode.INVALID_ARGUMENT,
                     f'input_config must be gcs_source URIs of instances_format {FORMATS} (got '
                     f'{job.input_config.instances_format!r} from {list(source)}).')
    predictions_format = job.output_config.predictions_format or 'jsonl'
    prefix = job.output_config.gcs_destination.output_uri_prefix.rstrip('/')
    if predictions_format != 'jsonl' or not prefix.startswith('gs://'):
      raise RpcError(grpc.StatusCode.INVALID_ARGUMENT,
                     'output_config must be a gcs_destination with predictions_format jsonl.')
    model_dir = gcs_path(self._gcs_root, model.artifact_uri)
    inputs = [gcs_path(self._gcs_root, uri) for uri in source]
    if model_dir is None or any(path is None for path in inputs):
      raise RpcError(grpc.StatusCode.INVALID_ARGUMENT,
                     'the model artifacts and the inputs must be gs:// URIs.')
    job.name = f'{request.parent}/batchPredictionJobs/{self._registry.new_id()}'
    job.model, job.model_version_id = versioned(model).partition('@')[0], model.version_id
    job.state = State.JOB_STATE_PENDING
    job.create_time = job.update_time = _now()
    stamp = job.create_time.strftime('%Y_%m_%dT%H_%M_%S_') + \
        f'{job.create_time.microsecond // 1000:03d}Z'
    output = f'{prefix}/prediction-{model.display_name}-{stamp}'
    self._registry.batch_prediction_jobs[job.name] = job
    self._registry.save()
    argv = ['batch', '--model', str(model_dir), '--format', job.input_config.instances_format,
            '--output', str(gcs_path(self._gcs_root, output)), *map(str, inputs)]
    thread = threading.Thread(target=self._run, args=(job.name, argv, output), daemon=True,
                              name=f'batch-prediction {job.name}')
    self._threads.append(thread)
    thread.start()
    return job

  def _run(self, name: str, argv: List[str], output: str) -> None:
    log = self._logs_root / f'{name.rsplit("/", 1)[-1]}.log'
    with self._lock:
      job = self._job(name)
      if job.state != State.JOB_STATE_PENDING:
        return  # cancelled before it started
      job.state, job.start_time = State.JOB_STATE_RUNNING, _now()
      process = self._processes[name] = self._runner(argv, log)
    out, _ = process.communicate()
    with self._lock:
      self._processes.pop(name, None)
      job.end_time = job.update_time = _now()
      if job.state == State.JOB_STATE_CANCELLING:
        job.state = State.JOB_STATE_CANCELLED
        job.error = status_pb2.Status(code=_CODE_CANCELLED, message='The job was cancelled.')
      elif process.returncode != 0:
        job.state = State.JOB_STATE_FAILED
        job.error = status_pb2.Status(code=_CODE_FAILED, message=(
            f'The batch prediction failed (exit {process.returncode}): '
            f'{workers.log_tail(log, 6)}'))
      else:
        counts = json.loads(out.decode().strip().splitlines()[-1])
        job.state = State.JOB_STATE_SUCCEEDED
        job.completion_stats = completion_types.CompletionStats(
            successful_count=counts['predicted'], failed_count=counts['failed'])
        job.output_info.gcs_output_directory = output
      self._registry.save()

  def _cancel(self, request) -> empty_pb2.Empty:
    job = self._job(request.name)
    if job.state in _ENDED:
      raise RpcError(grpc.StatusCode.FAILED_PRECONDITION,
                     f'BatchPredictionJob {request.name!r} already ended ({job.state.name}).')
    process = self._processes.get(request.name)
    if process is None:
      job.state, job.end_time = State.JOB_STATE_CANCELLED, _now()
    else:
      job.state = State.JOB_STATE_CANCELLING
      workers.stop_process(process)
    job.update_time = _now()
    self._registry.save()
    return empty_pb2.Empty()

  def fail_interrupted(self) -> None:
    """At start: jobs that were running when the last server stopped can never finish."""
    for job in self._registry.batch_prediction_jobs.values():
      if job.state not in _ENDED:
        job.state, job.end_time = State.JOB_STATE_FAILED, _now()
        job.error = status_pb2.Status(code=10, message='The local Vertex AI server stopped '
                                      'while this job ran.')

  def stop_all(self) -> None:
    """Stops running jobs (called without the lock); they end CANCELLED."""
    with self._lock:
      for name, process in list(self._processes.items()):
        self._job(name).state = State.JOB_STATE_CANCELLING
        workers.stop_process(process)
    for thread in self._threads:
      thread.join()
