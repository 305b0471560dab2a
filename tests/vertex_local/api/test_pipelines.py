"""Pipeline jobs run through a pipeline runner (the engine's, in vertex_local/service.py; a
callable here), and schedules fire on their cron: the services, called as the gRPC handlers
call them. The SDK's submit()/wait() against the engine: tests/vertex_local/test_engine_e2e.py."""

import datetime
import threading

import grpc
import pytest
from google.cloud.aiplatform_v1.types import pipeline_service, schedule_service

from vertex_local.api.operations import Operations
from vertex_local.api.pipelines import PipelineJob, PipelineService
from vertex_local.api.rpc import RpcError
from vertex_local.api.schedules import Schedule, ScheduleService

PARENT = 'projects/p/locations/us-central1'
UTC = datetime.timezone.utc


def _request(name='chicago-taxi'):
  return pipeline_service.CreatePipelineJobRequest(parent=PARENT, pipeline_job=PipelineJob(
      display_name=name, pipeline_spec={'pipelineInfo': {'name': name}}))


def _wait_ended(service, name, timeout=10.0):
  deadline = threading.Event()
  for _ in range(int(timeout / 0.05)):
    if service.job(name).state.name in ('PIPELINE_STATE_SUCCEEDED', 'PIPELINE_STATE_FAILED',
                                        'PIPELINE_STATE_CANCELLED'):
      return service.job(name)
    deadline.wait(0.05)
  raise AssertionError(f'{name} did not end: {service.job(name).state.name}')


@pytest.fixture
def started():
  services = []

  def start(runner):
    service = PipelineService(threading.RLock(), runner)
    service.start(Operations())
    services.append(service)
    return service

  yield start
  for service in services:
    service.stop()


def test_a_created_job_runs_and_reports_its_tasks(started):
  seen = []

  def runner(run):
    seen.append(run.job['pipelineSpec']['pipelineInfo']['name'])
    run.task_ended('CsvExampleGen', 'SKIPPED', 0.5, None)
    run.task_ended('Trainer', 'SUCCEEDED', 2.0, None)
    return ''

  service = started(runner)
  job = service.create(_request())
  assert job.state.name == 'PIPELINE_STATE_PENDING'
  done = _wait_ended(service, job.name)
  assert done.state.name == 'PIPELINE_STATE_SUCCEEDED' and seen == ['chicago-taxi']
  assert [(t.task_name, t.state.name) for t in done.job_detail.task_details] == [
      ('CsvExampleGen', 'SKIPPED'), ('Trainer', 'SUCCEEDED')]
  assert done.start_time and done.end_time >= done.start_time


def test_a_failed_run_fails_the_job_with_the_reason(started):
  def runner(run):
    run.task_ended('AnomaliesGate', 'FAILED', 1.0, 'AnomaliesGate failed: payment_type ...')
    run.task_ended('Transform', 'NOT_TRIGGERED', 0.0, 'not triggered: upstream ...')
    return 'AnomaliesGate failed: payment_type ...'

  service = started(runner)
  done = _wait_ended(service, service.create(_request()).name)
  assert done.state.name == 'PIPELINE_STATE_FAILED'
  assert done.error.message == 'AnomaliesGate failed: payment_type ...'
  failed, skipped = done.job_detail.task_details
  assert failed.error.message.startswith('AnomaliesGate failed')
  assert not skipped.error.message  # Vertex fills `error` for FAILED and CANCELLED only


def test_cancel_stops_the_running_job_and_a_queued_one_never_starts(started):
  running, ran = threading.Event(), []

  def runner(run):
    ran.append(run.name)
    running.set()
    assert run.cancelled.wait(10)  # the engine stops its tasks when this is set
    return 'cancelled'

  service = started(runner)
  first, second = service.create(_request('a')), service.create(_request('b'))
  assert running.wait(10)
  cancel = pipeline_service.CancelPipelineJobRequest
  service._cancel_job(cancel(name=second.name))  # pylint: disable=protected-access
  assert service.job(second.name).state.name == 'PIPELINE_STATE_CANCELLED'
  service._cancel_job(cancel(name=first.name))  # pylint: disable=protected-access
  assert service.job(first.name).state.name in ('PIPELINE_STATE_CANCELLING',
                                                'PIPELINE_STATE_CANCELLED')
  done = _wait_ended(service, first.name)
  assert done.state.name == 'PIPELINE_STATE_CANCELLED' and done.error.code == 1
  assert ran == [first.name]
  with pytest.raises(RpcError) as again:
    service._cancel_job(cancel(name=first.name))  # pylint: disable=protected-access
  assert again.value.code == grpc.StatusCode.FAILED_PRECONDITION


def test_list_filters_and_orders_newest_first(started):
  service = started(None)  # no runner: jobs stay PENDING
  names = [service.create(_request(name)).name for name in ('a', 'b', 'a')]
  listed = service._list(pipeline_service.ListPipelineJobsRequest(  # pylint: disable=protected-access
      parent=PARENT, filter='display_name="a" AND state="PIPELINE_STATE_PENDING"'))
  assert [job.name for job in listed.pipeline_jobs] == [names[2], names[0]]
  with pytest.raises(RpcError, match='not supported'):
    service._list(pipeline_service.ListPipelineJobsRequest(  # pylint: disable=protected-access
        parent=PARENT, filter='create_time>1'))


def _schedule(schedules, cron, start, **fields):
  request = schedule_service.CreateScheduleRequest(parent=PARENT, schedule=Schedule(
      display_name='nightly', cron=cron, start_time=start,
      create_pipeline_job_request=_request(), **fields))
  return schedules._create(request)  # pylint: disable=protected-access


def test_schedules_fire_on_their_cron_within_their_limits():
  start = datetime.datetime(2027, 1, 4, 10, 0, tzinfo=UTC)
  now = {'t': start}
  pipelines = PipelineService(threading.RLock())  # jobs stay PENDING: not ended
  schedules = ScheduleService(threading.RLock(), pipelines, Operations(), lambda: now['t'])
  every5 = _schedule(schedules, '*/5 * * * *', start, max_concurrent_run_count=1)
  queued = _schedule(schedules, '*/5 * * * *', start, max_concurrent_run_count=1,
                     allow_queueing=True, max_run_count=2)
  assert every5.next_run_time == start

  def jobs_of(schedule):
    return [job for job in pipelines.pipeline_jobs.values()
            if job.schedule_name == schedule.name]

  schedules.tick(start)
  assert len(jobs_of(every5)) == len(jobs_of(queued)) == 1
  assert every5.next_run_time == start + datetime.timedelta(minutes=5)
  assert every5.last_scheduled_run_response.run_response == jobs_of(every5)[0].name
  schedules.tick(start + datetime.timedelta(minutes=3))  # not yet
  assert len(jobs_of(every5)) == 1
  schedules.tick(start + datetime.timedelta(minutes=5))
  # The first job has not ended: at max_concurrent_run_count the run is skipped, unless queued.
  assert len(jobs_of(every5)) == 1 and every5.started_run_count == 1
  assert len(jobs_of(queued)) == 2 and queued.state == Schedule.State.COMPLETED  # max_run_count
  # Paused, it does not fire; resumed, it fires from the next time on (no catch-up).
  schedules._pause(schedule_service.PauseScheduleRequest(  # pylint: disable=protected-access
      name=every5.name))
  schedules.tick(start + datetime.timedelta(minutes=30))
  assert len(jobs_of(every5)) == 1
  now['t'] = start + datetime.timedelta(minutes=31)
  schedules._resume(schedule_service.ResumeScheduleRequest(  # pylint: disable=protected-access
      name=every5.name))
  assert every5.next_run_time == start + datetime.timedelta(minutes=35)


def test_a_schedule_keeps_its_time_zone_and_ends_at_its_end_time():
  start = datetime.datetime(2027, 3, 1, 0, 0, tzinfo=UTC)
  pipelines = PipelineService(threading.RLock())
  schedules = ScheduleService(threading.RLock(), pipelines, Operations(), lambda: start)
  chicago = _schedule(schedules, 'TZ=America/Chicago 0 3 * * *', start,
                      max_concurrent_run_count=5,
                      end_time=start + datetime.timedelta(days=20))
  assert chicago.next_run_time == datetime.datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # CST
  schedules.tick(datetime.datetime(2027, 3, 15, 9, 0, tzinfo=UTC))  # after the DST change
  assert chicago.next_run_time == datetime.datetime(2027, 3, 16, 8, 0, tzinfo=UTC)  # CDT
  schedules.tick(start + datetime.timedelta(days=21))
  assert chicago.state == Schedule.State.COMPLETED and chicago.started_run_count == 1


def test_a_bad_cron_is_refused_when_the_schedule_is_created():
  schedules = ScheduleService(threading.RLock(), PipelineService(threading.RLock()), Operations())
  with pytest.raises(RpcError, match="schedule.cron '61 \\* \\* \\* \\*' is invalid: bad minute"):
    _schedule(schedules, '61 * * * *', None, max_concurrent_run_count=1)
