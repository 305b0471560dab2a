"""Vertex AI's v1 ScheduleService for pipeline jobs, as aiplatform's PipelineJobSchedule calls it:
Create, Get, List, Pause, Resume, Delete; and the schedules fire.

A schedule fires at each time of its cron (cron.py: 5 fields, TZ=/CRON_TZ= prefix, UTC
otherwise) from its start_time on, creating a PipelineJob from its create_pipeline_job_request
with `schedule_name` set (the pipeline service runs it). As the Schedule proto documents:
- a fire time that finds max_concurrent_run_count of its jobs not ended is skipped, unless
  allow_queueing (then the job is created and waits its turn);
- started_run_count, last_scheduled_run_response and next_run_time follow each fire;
- at max_run_count runs, or past end_time, the schedule is COMPLETED (and can no longer be
  paused or resumed);
- a paused schedule does not fire; resumed, it fires from the next time after the resume (the
  missed runs are not caught up).
`tick(now)` does the firing; a background thread calls it every `interval` seconds with the
wall clock. Schedules live in memory only.
"""

import datetime
import itertools
import threading
from typing import Any, Callable, Dict, Optional

import grpc
from google.cloud.aiplatform_v1.types import schedule as schedule_types
from google.cloud.aiplatform_v1.types import schedule_service
from google.protobuf import empty_pb2

from vertex_local import cron as cron_lib
from vertex_local.api.operations import Operations
from vertex_local.api.pipelines import PipelineService
from vertex_local.api.rpc import Method, RpcError, not_found, proto_method

Schedule = schedule_types.Schedule
Clock = Callable[[], datetime.datetime]


def utc_now() -> datetime.datetime:
  return datetime.datetime.now(datetime.timezone.utc)


class ScheduleService:

  def __init__(self, lock: threading.RLock, pipelines: PipelineService,
               operations: Operations, clock: Clock = utc_now, interval: float = 1.0):
    self._lock = lock
    self._pipelines = pipelines
    self._operations = operations
    self._clock = clock
    self._interval = interval
    self.schedules: Dict[str, Schedule] = {}
    self._ids = itertools.count(1001)
    self._stop = threading.Event()
    self._thread: Optional[threading.Thread] = None

  def reset(self) -> None:
    self.schedules = {}
    self._ids = itertools.count(1001)

  def methods(self) -> Dict[str, Dict[str, Method]]:
    service = schedule_service
    return {'google.cloud.aiplatform.v1.ScheduleService': {
        'CreateSchedule': proto_method(service.CreateScheduleRequest, self._create, Schedule),
        'GetSchedule': proto_method(service.GetScheduleRequest, self._get, Schedule),
        'ListSchedules': proto_method(service.ListSchedulesRequest, self._list,
                                      service.ListSchedulesResponse),
        'PauseSchedule': proto_method(service.PauseScheduleRequest, self._pause),
        'ResumeSchedule': proto_method(service.ResumeScheduleRequest, self._resume),
        'DeleteSchedule': proto_method(service.DeleteScheduleRequest, self._delete),
    }}

  def start(self) -> None:
    """Fires schedules from a daemon thread until stop()."""
    self._stop.clear()
    self._thread = threading.Thread(target=self._run, name='schedules', daemon=True)
    self._thread.start()

  def stop(self) -> None:
    self._stop.set()
    if self._thread is not None:
      self._thread.join()
      self._thread = None

  def _run(self) -> None:
    while not self._stop.wait(self._interval):
      with self._lock:
        self.tick(self._clock())

  def tick(self, now: datetime.datetime) -> None:
    """Fires every active schedule whose next run time has come (call with the lock held)."""
    for name, schedule in list(self.schedules.items()):
      if schedule.state != Schedule.State.ACTIVE or schedule.next_run_time is None:
        continue
      if schedule.end_time and now >= schedule.end_time:
        self._complete(schedule, now)
        continue
      if now < schedule.next_run_time:
        continue
      fire_time = schedule.next_run_time
      busy = len(self._pipelines.non_terminal(name)) >= schedule.max_concurrent_run_count
      if not busy or schedule.allow_queueing:
        request = schedule.create_pipeline_job_request
        job = self._pipelines.create(request, schedule_name=name)
        schedule.started_run_count += 1
        schedule.last_scheduled_run_response = Schedule.RunResponse(
            scheduled_run_time=fire_time, run_response=job.name)
      schedule.next_run_time = cron_lib.parse(schedule.cron).next_after(now)
      schedule.update_time = now
      if schedule.max_run_count and schedule.started_run_count >= schedule.max_run_count:
        self._complete(schedule, now)

  @staticmethod
  def _complete(schedule: Schedule, now: datetime.datetime) -> None:
    schedule.state = Schedule.State.COMPLETED
    schedule.next_run_time = None
    schedule.update_time = now

  def _schedule(self, name: str) -> Schedule:
    if name not in self.schedules:
      raise not_found('Schedule', name)
    return self.schedules[name]

  def _get(self, request) -> Schedule:
    return self._schedule(request.name)

  def _create(self, request) -> Schedule:
    schedule = Schedule.deserialize(Schedule.serialize(request.schedule))
    try:
      cron = cron_lib.parse(schedule.cron)
    except cron_lib.CronError as error:
      raise RpcError(grpc.StatusCode.INVALID_ARGUMENT,
                     f'schedule.cron {schedule.cron!r} is invalid: {error}') from None
    if 'create_pipeline_job_request' not in schedule:
      raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, 'schedule.create_pipeline_job_request is '
                     'required (the local Vertex AI schedules pipeline jobs only).')
    if schedule.max_concurrent_run_count < 1:
      raise RpcError(grpc.StatusCode.INVALID_ARGUMENT,
                     'schedule.max_concurrent_run_count must be at least 1.')
    now = self._clock()
    schedule.name = f'{request.parent}/schedules/{next(self._ids)}'
    schedule.state = Schedule.State.ACTIVE
    schedule.create_time = schedule.update_time = now
    if schedule.start_time is None:  # as the service does: start when created
      schedule.start_time = now
    # The first fire time at or after start_time (CronSim yields times after its start).
    schedule.next_run_time = cron.next_after(schedule.start_time - datetime.timedelta(seconds=1))
    self.schedules[schedule.name] = schedule
    return schedule

  def _list(self, request) -> schedule_service.ListSchedulesResponse:
    return schedule_service.ListSchedulesResponse(schedules=[
        schedule for name, schedule in self.schedules.items()
        if name.startswith(f'{request.parent}/schedules/')])

  def _move(self, request, source: Any, target: Any) -> Schedule:
    schedule = self._schedule(request.name)
    if schedule.state != source:
      raise RpcError(grpc.StatusCode.FAILED_PRECONDITION,
                     f'Schedule {request.name!r} is {schedule.state.name}, not {source.name}.')
    schedule.state = target
    schedule.update_time = self._clock()
    return schedule

  def _pause(self, request) -> empty_pb2.Empty:
    schedule = self._move(request, Schedule.State.ACTIVE, Schedule.State.PAUSED)
    schedule.last_pause_time = schedule.update_time
    return empty_pb2.Empty()

  def _resume(self, request) -> empty_pb2.Empty:
    schedule = self._move(request, Schedule.State.PAUSED, Schedule.State.ACTIVE)
    schedule.last_resume_time = now = schedule.update_time
    schedule.next_run_time = cron_lib.parse(schedule.cron).next_after(now)
    return empty_pb2.Empty()

  def _delete(self, request):
    """A long-running operation; the schedule is gone when the operation is first polled."""
    self._schedule(request.name)

    def complete() -> empty_pb2.Empty:
      self.schedules.pop(request.name, None)
      return empty_pb2.Empty()

    return self._operations.start(request.name, complete)
