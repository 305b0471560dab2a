"""Vertex AI Pipelines: the v1 PipelineService and ScheduleService, as aiplatform's PipelineJob
and PipelineJobSchedule call them (aiplatform.compat.DEFAULT_VERSION is 'v1').

Pipeline jobs are recorded, not run (the local engine runs compiled specs itself); schedules go
through their states as on Vertex AI. Both live in memory only.
"""

import datetime
import itertools
from typing import Any, Dict

import grpc
from google.cloud.aiplatform_v1.types import pipeline_job as pipeline_job_types
from google.cloud.aiplatform_v1.types import pipeline_service, pipeline_state
from google.cloud.aiplatform_v1.types import schedule as schedule_types
from google.cloud.aiplatform_v1.types import schedule_service
from google.protobuf import empty_pb2

from vertex_local.api.operations import Operations
from vertex_local.api.rpc import Method, RpcError, not_found, proto_method

PipelineJob = pipeline_job_types.PipelineJob
Schedule = schedule_types.Schedule


def _now() -> datetime.datetime:
  return datetime.datetime.now(datetime.timezone.utc)


class PipelineServices:
  """PipelineService (create/get jobs) and ScheduleService (the whole schedule lifecycle)."""

  def __init__(self, operations: Operations):
    self._operations = operations
    self.pipeline_jobs: Dict[str, PipelineJob] = {}
    self.schedules: Dict[str, Schedule] = {}
    self._ids = itertools.count(1001)

  def reset(self) -> None:
    self.pipeline_jobs = {}
    self.schedules = {}
    self._ids = itertools.count(1001)

  def methods(self) -> Dict[str, Dict[str, Method]]:
    return {
        'google.cloud.aiplatform.v1.PipelineService': {
            'CreatePipelineJob': proto_method(pipeline_service.CreatePipelineJobRequest,
                                              self._create_pipeline_job, PipelineJob),
            'GetPipelineJob': proto_method(pipeline_service.GetPipelineJobRequest,
                                           self._get_pipeline_job, PipelineJob),
        },
        'google.cloud.aiplatform.v1.ScheduleService': {
            'CreateSchedule': proto_method(schedule_service.CreateScheduleRequest,
                                           self._create_schedule, Schedule),
            'GetSchedule': proto_method(schedule_service.GetScheduleRequest,
                                        self._get_schedule, Schedule),
            'ListSchedules': proto_method(schedule_service.ListSchedulesRequest,
                                          self._list_schedules,
                                          schedule_service.ListSchedulesResponse),
            'PauseSchedule': proto_method(schedule_service.PauseScheduleRequest,
                                          self._pause_schedule),
            'ResumeSchedule': proto_method(schedule_service.ResumeScheduleRequest,
                                           self._resume_schedule),
            'DeleteSchedule': proto_method(schedule_service.DeleteScheduleRequest,
                                           self._delete_schedule),
        },
    }

  def _get_pipeline_job(self, request) -> PipelineJob:
    if request.name not in self.pipeline_jobs:
      raise not_found('PipelineJob', request.name)
    return self.pipeline_jobs[request.name]

  def _get_schedule(self, request) -> Schedule:
    if request.name not in self.schedules:
      raise not_found('Schedule', request.name)
    return self.schedules[request.name]

  def _create_pipeline_job(self, request) -> PipelineJob:
    job = PipelineJob.deserialize(PipelineJob.serialize(request.pipeline_job))
    job.name = f'{request.parent}/pipelineJobs/{request.pipeline_job_id or next(self._ids)}'
    if job.name in self.pipeline_jobs:
      raise RpcError(grpc.StatusCode.ALREADY_EXISTS, f'PipelineJob {job.name!r} already exists.')
    job.state = pipeline_state.PipelineState.PIPELINE_STATE_PENDING
    job.create_time = _now()
    self.pipeline_jobs[job.name] = job
    return job

  def _create_schedule(self, request) -> Schedule:
    schedule = Schedule.deserialize(Schedule.serialize(request.schedule))
    schedule.name = f'{request.parent}/schedules/{next(self._ids)}'
    schedule.state = Schedule.State.ACTIVE
    schedule.create_time = _now()
    if schedule.start_time is None:  # as the service does: start when created
      schedule.start_time = schedule.create_time
    self.schedules[schedule.name] = schedule
    return schedule

  def _list_schedules(self, request) -> schedule_service.ListSchedulesResponse:
    return schedule_service.ListSchedulesResponse(schedules=[
        schedule for name, schedule in self.schedules.items()
        if name.startswith(f'{request.parent}/schedules/')])

  def _move(self, request, source: Any, target: Any) -> empty_pb2.Empty:
    schedule = self._get_schedule(request)
    if schedule.state != source:
      raise RpcError(grpc.StatusCode.FAILED_PRECONDITION,
                     f'Schedule {request.name!r} is {schedule.state.name}, not {source.name}.')
    schedule.state = target
    return empty_pb2.Empty()

  def _pause_schedule(self, request) -> empty_pb2.Empty:
    return self._move(request, Schedule.State.ACTIVE, Schedule.State.PAUSED)

  def _resume_schedule(self, request) -> empty_pb2.Empty:
    return self._move(request, Schedule.State.PAUSED, Schedule.State.ACTIVE)

  def _delete_schedule(self, request):
    """A long-running operation; the schedule is gone when the operation is first polled."""
    self._get_schedule(request)

    def complete() -> empty_pb2.Empty:
      self.schedules.pop(request.name, None)
      return empty_pb2.Empty()

    return self._operations.start(request.name, complete)
