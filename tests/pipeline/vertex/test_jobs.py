"""pipeline.vertex.jobs against the local Vertex AI (vertex_local.api: real aiplatform client,
gRPC/TLS).

Nothing here reaches Google Cloud: aiplatform's clients go to LocalVertexAI on 127.0.0.1 through
`api_endpoint`, and its Cloud Storage bucket check to the local server (which refuses it) via
STORAGE_EMULATOR_HOST.
"""

import datetime
import json
import os
from pathlib import Path

import grpc
import pytest
from google.protobuf import json_format

from pipeline.vertex import jobs as vertex_jobs
from pipeline.vertex.jobs import InvalidSettingError, JobSettings, VertexJobError
from vertex_local.api import LocalVertexAI
from vertex_local.api.schedules import Schedule

PROJECT, REGION = 'taxi-test-project', 'us-central1'
ROOT = 'gs://taxi-test-bucket/pipeline_root/chicago-taxi'
SERVICE_ACCOUNT = 'pipeline-runner@taxi-test-project.iam.gserviceaccount.com'
NETWORK = 'projects/123456789/global/networks/taxi-vpc'
KEY = f'projects/{PROJECT}/locations/{REGION}/keyRings/taxi/cryptoKeys/pipelines'
CHICAGO = datetime.timezone(datetime.timedelta(hours=-6))


@pytest.fixture(scope='module')
def spec_path(tmp_path_factory) -> Path:
  """The project's real compiled spec, once per module: what `python -m pipeline compile` writes
  (its default profile, vertex-cpu), compiled by the same function in this process. A compile
  subprocess would import TensorFlow again for ~10 s; the CLI's own compile is tested in
  test_compile.py and test_vertex_cli.py."""
  # Imported here: they pull in TFX and TensorFlow, which the tests below do not need.
  from pipeline import environment  # pylint: disable=import-outside-toplevel
  from pipeline import settings as settings_lib  # pylint: disable=import-outside-toplevel
  from pipeline.vertex import profiles  # pylint: disable=import-outside-toplevel
  from pipeline.vertex import compiler  # pylint: disable=import-outside-toplevel
  path = tmp_path_factory.mktemp('spec') / 'spec.json'
  env = environment.read(dict(os.environ, GCP_PROJECT=PROJECT, GCS_BUCKET='taxi-test-bucket'))
  profile = profiles.load_profile('vertex-cpu', env)
  run = profile.run_settings(settings_lib.run_settings(env), env)
  compiler.compile_spec(profile, run, str(path))
  return path


@pytest.fixture
def compiled(spec_path) -> dict:
  """A fresh copy of the compiled spec's JSON, for the test to change."""
  return json.loads(spec_path.read_text())


@pytest.fixture
def fake(vertex) -> LocalVertexAI:
  vertex.reset()
  return vertex


_CREDENTIALS = {}


def call(function, *args, endpoint: str, **kwargs):
  """Calls a vertex_jobs function against `endpoint` with the local server's credentials
  (GOOGLE_APPLICATION_CREDENTIALS: the `vertex` fixture's key)."""
  from google.oauth2 import service_account  # pylint: disable=import-outside-toplevel
  path = os.environ['GOOGLE_APPLICATION_CREDENTIALS']
  if path not in _CREDENTIALS:
    _CREDENTIALS[path] = service_account.Credentials.from_service_account_file(
        path, scopes=['https://www.googleapis.com/auth/cloud-platform'])
  return function(*args, api_endpoint=endpoint, credentials=_CREDENTIALS[path], **kwargs)


def settings(**overrides) -> JobSettings:
  values = dict(project=PROJECT, region=REGION, pipeline_root=ROOT)
  values.update(overrides)
  return JobSettings(**values)


def full_settings(**overrides) -> JobSettings:
  return settings(service_account=SERVICE_ACCOUNT, network=NETWORK, encryption_key=KEY,
                  labels={'team': 'taxi', 'env': 'test'}, display_name='taxi-nightly', **overrides)


def as_dict(message) -> dict:
  return json_format.MessageToDict(type(message).pb(message))


def test_submit_sends_the_compiled_spec_and_every_setting(fake, spec_path, compiled):
  run = call(vertex_jobs.submit, str(spec_path), full_settings(), job_id='taxi-run-1',
             endpoint=fake.endpoint)

  [create] = fake.calls('CreatePipelineJob')
  request = create.request
  assert request.parent == f'projects/{PROJECT}/locations/{REGION}'
  assert request.pipeline_job_id == 'taxi-run-1'
  job = request.pipeline_job
  assert as_dict(job)['pipelineSpec'] == compiled['pipelineSpec']
  assert job.runtime_config.gcs_output_directory == ROOT
  assert job.service_account == SERVICE_ACCOUNT
  assert job.network == NETWORK
  assert dict(job.labels) == {'team': 'taxi', 'env': 'test'}
  assert job.encryption_spec.kms_key_name == KEY
  assert job.display_name == 'taxi-nightly'
  # aiplatform looked up the pipeline root's bucket (at the local server, which refused) first
  assert fake.storage_requests[0].startswith('GET /storage/v1/b/taxi-test-bucket?')

  name = f'projects/{PROJECT}/locations/{REGION}/pipelineJobs/taxi-run-1'
  assert run == vertex_jobs.SubmittedRun(
      resource_name=name, job_id='taxi-run-1', state='PIPELINE_STATE_PENDING',
      console_link=('https://console.cloud.google.com/vertex-ai/locations/us-central1/pipelines/'
                    f'runs/taxi-run-1?project={PROJECT}'))
  assert name in fake.pipeline_jobs


@pytest.mark.parametrize('enable_caching', [False, True])
def test_submit_caching_flag_overrides_every_step(fake, spec_path, compiled, enable_caching):
  call(vertex_jobs.submit, str(spec_path), settings(enable_caching=enable_caching),
       endpoint=fake.endpoint)

  [create] = fake.calls('CreatePipelineJob')
  sent = as_dict(create.request.pipeline_job)['pipelineSpec']
  tasks = sent['root']['dag']['tasks']
  assert {name: task['cachingOptions'] for name, task in tasks.items()} == {
      name: {'enableCache': enable_caching} for name in tasks}
  for task in compiled['pipelineSpec']['root']['dag']['tasks'].values():
    task['cachingOptions'] = {'enableCache': enable_caching}
  assert sent == compiled['pipelineSpec']
  assert create.request.pipeline_job_id.startswith('chicago-taxi-')  # aiplatform's default id


def test_submit_sends_parameter_values(fake, compiled, tmp_path):
  with_parameters = json.loads(json.dumps(compiled))
  with_parameters['pipelineSpec']['root']['inputDefinitions'] = {'parameters': {
      'train_steps': {'type': 'INT'}, 'data_root': {'type': 'STRING'}}}
  path = tmp_path / 'with_parameters.json'
  path.write_text(json.dumps(with_parameters))

  call(vertex_jobs.submit, str(path),
       settings(parameter_values={'train_steps': 500, 'data_root': 'gs://taxi-test-bucket/data'}),
       endpoint=fake.endpoint)

  [create] = fake.calls('CreatePipelineJob')
  assert as_dict(create.request.pipeline_job)['runtimeConfig']['parameters'] == {
      'train_steps': {'intValue': '500'},
      'data_root': {'stringValue': 'gs://taxi-test-bucket/data'}}


def test_submit_rejects_an_undeclared_parameter_before_sending(fake, spec_path):
  with pytest.raises(VertexJobError, match="parameter train_steps is not found"):
    call(vertex_jobs.submit, str(spec_path), settings(parameter_values={'train_steps': 5}),
         endpoint=fake.endpoint)
  assert fake.calls() == []


@pytest.mark.parametrize('content, message', [
    (None, 'does not exist; write it with `python -m pipeline compile'),
    ('{"pipelineSpec": ', 'is not JSON'),
    ('{"hello": "world"}', 'is JSON but not a compiled KFP pipeline spec'),
])
def test_submit_reports_a_bad_spec_file_before_sending(fake, tmp_path, content, message):
  path = tmp_path / 'spec.json'
  if content is not None:
    path.write_text(content)
  with pytest.raises(VertexJobError, match=message) as raised:
    call(vertex_jobs.submit, str(path), settings(), endpoint=fake.endpoint)
  assert str(path) in str(raised.value)
  assert fake.calls() == [] and fake.storage_requests == []


SERVER_ERRORS = [
    (grpc.StatusCode.PERMISSION_DENIED,
     "Permission 'aiplatform.pipelineJobs.create' denied on resource",
     'permission denied', f'roles/aiplatform.user on the project, and roles/iam.serviceAccountUser '
     f'on {SERVICE_ACCOUNT}'),
    (grpc.StatusCode.RESOURCE_EXHAUSTED,
     "Quota exceeded for quota metric 'Concurrent pipeline jobs'",
     'quota exceeded', 'request more Vertex AI quota'),
    (grpc.StatusCode.INVALID_ARGUMENT, 'PipelineSpec is invalid: unknown executor "Trainer"',
     'Vertex AI rejected the request as invalid', 'check the compiled spec'),
]


@pytest.mark.parametrize('code, server_text, what, hint', SERVER_ERRORS)
def test_submit_turns_server_errors_into_clear_messages(fake, spec_path, code, server_text, what,
                                                        hint):
  fake.fail_next(code, server_text, method='CreatePipelineJob')
  with pytest.raises(VertexJobError) as raised:
    call(vertex_jobs.submit, str(spec_path), full_settings(), endpoint=fake.endpoint)
  message = str(raised.value)
  assert message.startswith(f"{what} submitting pipeline 'taxi-nightly' to project {PROJECT} "
                            f'in {REGION}: {server_text}')
  assert hint in message
  assert len(fake.calls('CreatePipelineJob')) == 1  # the request did reach the server


@pytest.mark.parametrize('code, server_text, what, hint', SERVER_ERRORS)
def test_create_schedule_turns_server_errors_into_clear_messages(fake, spec_path, code, server_text,
                                                                 what, hint):
  fake.fail_next(code, server_text)
  with pytest.raises(VertexJobError) as raised:
    call(vertex_jobs.create_schedule, str(spec_path), full_settings(), '0 3 * * *',
         endpoint=fake.endpoint)
  assert str(raised.value).startswith(f"{what} creating schedule 'taxi-nightly' in project "
                                      f'{PROJECT} in {REGION}: {server_text}')
  assert hint in str(raised.value)
  assert fake.schedules == {}


def test_schedule_create_sends_cron_limits_times_and_the_job(fake, spec_path, compiled):
  start = datetime.datetime(2030, 1, 1, 3, 0, tzinfo=CHICAGO)
  end = datetime.datetime(2030, 6, 30, 23, 59, tzinfo=datetime.timezone.utc)
  created = call(vertex_jobs.create_schedule, str(spec_path), full_settings(enable_caching=False),
                 'TZ=America/Chicago  0 3 * * 1-5', max_concurrent_run_count=2, start_time=start,
                 end_time=end, endpoint=fake.endpoint)

  [create] = fake.calls('CreateSchedule')
  request = create.request
  assert request.parent == f'projects/{PROJECT}/locations/{REGION}'
  schedule = request.schedule
  assert schedule.cron == 'TZ=America/Chicago 0 3 * * 1-5'
  assert schedule.display_name == 'taxi-nightly'
  assert schedule.max_concurrent_run_count == 2
  assert schedule.start_time == start and schedule.end_time == end
  job_request = schedule.create_pipeline_job_request
  assert job_request.parent == f'projects/{PROJECT}/locations/{REGION}'
  job = job_request.pipeline_job
  assert job.service_account == SERVICE_ACCOUNT and job.network == NETWORK
  assert dict(job.labels) == {'team': 'taxi', 'env': 'test'}
  assert job.encryption_spec.kms_key_name == KEY
  assert job.runtime_config.gcs_output_directory == ROOT
  sent = as_dict(job)['pipelineSpec']
  for task in compiled['pipelineSpec']['root']['dag']['tasks'].values():
    task['cachingOptions'] = {'enableCache': False}
  assert sent == compiled['pipelineSpec']

  assert created.state == 'ACTIVE'
  assert created.cron == 'TZ=America/Chicago 0 3 * * 1-5'
  assert created.resource_name in fake.schedules
  schedule_id = created.resource_name.rsplit('/', 1)[-1]
  assert created.console_link.endswith(f'/us-central1/pipelines/schedules/{schedule_id}'
                                       f'?project={PROJECT}')


def test_schedule_lifecycle_pause_resume_delete(fake, spec_path):
  created = call(vertex_jobs.create_schedule, str(spec_path), settings(),
                 'CRON_TZ=UTC 30 2 * * *', endpoint=fake.endpoint)
  name = created.resource_name
  schedule_id = name.rsplit('/', 1)[-1]

  def states():
    return {s.resource_name: s.state
            for s in call(vertex_jobs.list_schedules, PROJECT, REGION, endpoint=fake.endpoint)}

  assert states() == {name: 'ACTIVE'}
  paused = call(vertex_jobs.pause_schedule, name, PROJECT, REGION, endpoint=fake.endpoint)
  assert paused.state == 'PAUSED' and fake.schedules[name].state.name == 'PAUSED'
  assert states() == {name: 'PAUSED'}
  with pytest.raises(VertexJobError, match=f'not possible now pausing schedule {name}: .*PAUSED'):
    call(vertex_jobs.pause_schedule, name, PROJECT, REGION, endpoint=fake.endpoint)
  resumed = call(vertex_jobs.resume_schedule, schedule_id, PROJECT, REGION,  # an ID works too
                 endpoint=fake.endpoint)
  assert resumed.state == 'ACTIVE' and states() == {name: 'ACTIVE'}
  assert call(vertex_jobs.delete_schedule, name, PROJECT, REGION, endpoint=fake.endpoint) is None
  assert states() == {}
  changes = [c.method for c in fake.calls()
             if c.method in {'PauseSchedule', 'ResumeSchedule', 'DeleteSchedule', 'GetOperation'}]
  assert changes == ['PauseSchedule', 'PauseSchedule', 'ResumeSchedule', 'DeleteSchedule',
                     'GetOperation']  # delete waited for its long-running operation
  with pytest.raises(VertexJobError, match=f'not found deleting schedule {name}: .*check the name'):
    call(vertex_jobs.delete_schedule, name, PROJECT, REGION, endpoint=fake.endpoint)


def test_schedule_names_with_a_project_number_work(fake):
  # Vertex AI answers with project numbers in resource names, whatever the caller used.
  name = f'projects/123456789012/locations/{REGION}/schedules/77'
  fake.schedules[name] = Schedule(name=name, state=Schedule.State.ACTIVE, cron='0 3 * * *',
                                  create_pipeline_job_request={'parent': name.rsplit('/', 2)[0]})
  paused = call(vertex_jobs.pause_schedule, name, PROJECT, REGION, endpoint=fake.endpoint)
  assert paused.state == 'PAUSED'
  assert paused.console_link.endswith(f'/schedules/77?project={PROJECT}')
  assert {c.request.name for c in fake.calls()} == {name}


def test_schedules_of_other_projects_are_not_listed(fake, spec_path):
  call(vertex_jobs.create_schedule, str(spec_path), settings(project='other-project'),
       '0 0 * * 0', endpoint=fake.endpoint)
  assert call(vertex_jobs.list_schedules, PROJECT, REGION, endpoint=fake.endpoint) == []
  [listing] = fake.calls('ListSchedules')
  assert listing.request.parent == f'projects/{PROJECT}/locations/{REGION}'


@pytest.mark.parametrize('cron, message', [
    ('0 3 * *', 'expected 5 fields'),
    ('0 3 * * * *', 'expected 5 fields'),
    ('61 3 * * *', 'bad minute field'),
    ('0 24 * * *', 'bad hour field'),
    ('0 3 0 * *', 'bad day-of-month field'),
    ('0 3 * 13 *', 'bad month field'),
    ('0 3 * * MON-FRX', 'bad day-of-week field'),
    ('*/0 3 * * *', 'bad minute field'),
    ('0 5-2 * * *', 'bad hour field'),
    ('TZ=America/Chicgo 0 3 * * *', "unknown time zone in 'TZ=America/Chicgo'"),
    ('CRON_TZ=Mars/Olympus 0 3 * * *', 'unknown time zone'),
    ('@daily', 'expected 5 fields'),
])
def test_invalid_cron_is_rejected_before_sending(fake, spec_path, cron, message):
  with pytest.raises(InvalidSettingError, match=message) as raised:
    call(vertex_jobs.create_schedule, str(spec_path), settings(), cron, endpoint=fake.endpoint)
  assert raised.value.field == 'cron' and raised.value.value == cron
  assert fake.calls() == []


@pytest.mark.parametrize('cron', ['0 3 * * *', 'TZ=America/Chicago 0 3 * * *',
                                  'CRON_TZ=Europe/Berlin */15 0-6,22,23 1-15 JAN-mar sun,6'])
def test_valid_cron_passes(cron):
  assert vertex_jobs.validate_cron(cron) == cron


@pytest.mark.parametrize('kwargs, field', [
    (dict(max_concurrent_run_count=0), 'max_concurrent_run_count'),
    (dict(start_time=datetime.datetime(2030, 1, 1)), 'start_time'),  # no time zone
    (dict(start_time=datetime.datetime(2030, 2, 1, tzinfo=CHICAGO),
          end_time=datetime.datetime(2030, 1, 1, tzinfo=CHICAGO)), 'end_time'),
])
def test_invalid_schedule_limits_are_rejected_before_sending(fake, spec_path, kwargs, field):
  with pytest.raises(InvalidSettingError) as raised:
    call(vertex_jobs.create_schedule, str(spec_path), settings(), '0 3 * * *',
         endpoint=fake.endpoint, **kwargs)
  assert raised.value.field == field
  assert fake.calls() == []


@pytest.mark.parametrize('overrides, field, bad_value', [
    (dict(pipeline_root='/tmp/pipeline_root'), 'pipeline_root', '/tmp/pipeline_root'),
    (dict(pipeline_root='s3://bucket/root'), 'pipeline_root', 's3://bucket/root'),
    (dict(region=''), 'region', ''),
    (dict(project='My_Project'), 'project', 'My_Project'),
    (dict(labels={'Team': 'taxi'}), 'label key', 'Team'),
    (dict(labels={'9team': 'taxi'}), 'label key', '9team'),
    (dict(labels={'team': 'Taxi Ops'}), 'label value', 'Taxi Ops'),
    (dict(labels={'team': 'x' * 64}), 'label value', 'x' * 64),
    (dict(service_account='runner@example.com'), 'service_account', 'runner@example.com'),
    (dict(network='taxi-vpc'), 'network', 'taxi-vpc'),
    (dict(encryption_key=KEY.replace(REGION, 'europe-west4')), 'encryption_key',
     KEY.replace(REGION, 'europe-west4')),
    (dict(enable_caching='yes'), 'enable_caching', 'yes'),
    (dict(display_name=''), 'display_name', ''),
    (dict(parameter_values={'train_steps': None}), 'parameter train_steps', None),
])
def test_job_settings_name_the_bad_field_and_value(overrides, field, bad_value):
  with pytest.raises(InvalidSettingError) as raised:
    settings(**overrides)
  assert (raised.value.field, raised.value.value) == (field, bad_value)
  assert field in str(raised.value) and repr(bad_value) in str(raised.value)


def test_invalid_settings_never_reach_the_server(fake, spec_path):
  with pytest.raises(ValueError):  # InvalidSettingError is also a ValueError for the CLI
    call(vertex_jobs.submit, str(spec_path), settings(labels={'Bad Key': 'x'}),
         endpoint=fake.endpoint)
  with pytest.raises(InvalidSettingError, match="invalid job_id 'Run_1'"):
    call(vertex_jobs.submit, str(spec_path), settings(), job_id='Run_1', endpoint=fake.endpoint)
  with pytest.raises(InvalidSettingError, match="invalid pipeline_root 'taxi-bucket/root'"):
    call(vertex_jobs.submit, str(spec_path), settings(pipeline_root='taxi-bucket/root'),
         endpoint=fake.endpoint)
  with pytest.raises(VertexJobError, match='listing schedules in project .* in mars-central1: '
                     'Unsupported region for Vertex AI'):  # aiplatform's check
    call(vertex_jobs.list_schedules, PROJECT, 'mars-central1', endpoint=fake.endpoint)
  with pytest.raises(InvalidSettingError, match='not in region us-central1'):
    call(vertex_jobs.pause_schedule, 'projects/p/locations/europe-west4/schedules/1', PROJECT,
         REGION, endpoint=fake.endpoint)
  assert fake.calls() == []


def test_job_settings_are_frozen_copies():
  labels = {'team': 'taxi'}
  job_settings = settings(labels=labels)
  labels['team'] = 'changed'
  assert job_settings.labels == {'team': 'taxi'}
  with pytest.raises(AttributeError):
    job_settings.region = 'europe-west4'  # type: ignore[misc]


def test_endpoint_override_is_restored_after_the_call(fake):
  from google.cloud.aiplatform import initializer  # pylint: disable=import-outside-toplevel
  before = initializer.global_config.api_endpoint
  call(vertex_jobs.list_schedules, PROJECT, REGION, endpoint=fake.endpoint)
  assert initializer.global_config.api_endpoint == before
  assert len(fake.calls('ListSchedules')) == 1


def test_an_unreachable_endpoint_is_reported(vertex):  # pylint: disable=unused-argument
  # `vertex` first: gRPC must not load its TLS roots before the local server's are in place.
  with pytest.raises(VertexJobError, match=r'^Vertex AI did not answer listing schedules in '
                     f'project {PROJECT} in {REGION}: .*check the network and the API endpoint'):
    call(vertex_jobs.list_schedules, PROJECT, REGION, endpoint='127.0.0.1:1')
