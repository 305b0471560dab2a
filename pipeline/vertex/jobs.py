"""Submits the compiled spec to Vertex AI Pipelines and manages its schedules (the CLI's
`submit` and `schedule create|list|pause|resume|delete`).

Calls go through google-cloud-aiplatform's PipelineJob and PipelineJobSchedule (API v1, gRPC).
Settings and the spec file are checked before anything is sent; server errors come back as
VertexJobError worded for the user. `api_endpoint` ("host:port") redirects one call, e.g. to a
fake in tests (aiplatform.init() sets it for the call; the previous value is restored after).
"""

import contextlib
import dataclasses
import datetime
import functools
import json
import re
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional

from google.api_core import exceptions as api_exceptions
from google.auth import credentials as auth_credentials
from google.auth import exceptions as auth_exceptions

from pipeline.vertex.settings import (  # pylint: disable=unused-import; re-exported API
    InvalidSettingError, JobSettings, VertexJobError, check_field, utc_timestamp, validate_cron)
from vertex_local import parameters as parameters_lib

Credentials = Optional[auth_credentials.Credentials]  # None: Application Default Credentials
_CONSOLE = 'https://console.cloud.google.com/vertex-ai/locations'
@dataclasses.dataclass(frozen=True)
class SubmittedRun:
  resource_name: str  # projects/<p>/locations/<region>/pipelineJobs/<job id>
  job_id: str
  state: str  # e.g. PIPELINE_STATE_PENDING
  console_link: str


@dataclasses.dataclass(frozen=True)
class ScheduleInfo:
  resource_name: str  # projects/<p>/locations/<region>/schedules/<id>
  display_name: str
  cron: str
  state: str  # ACTIVE, PAUSED or COMPLETED
  max_concurrent_run_count: int
  start_time: Optional[datetime.datetime]
  end_time: Optional[datetime.datetime]
  next_run_time: Optional[datetime.datetime]
  console_link: str


def submit(spec_path: str, settings: JobSettings, *, job_id: Optional[str] = None,
           api_endpoint: Optional[str] = None, credentials: Credentials = None) -> SubmittedRun:
  """Starts one run of the compiled spec and returns without waiting for it.

  job_id defaults to aiplatform's "<pipeline name>-<timestamp>". Before creating the job,
  aiplatform looks up the pipeline root's bucket in Cloud Storage, creates it if missing, and
  only logs a failure of that (e.g. no storage rights) before going on.
  """
  spec = _read_spec(spec_path)
  if job_id is not None:
    check_field('job_id', job_id)
  name = settings.display_name or _pipeline_name(spec)
  action = f'submitting pipeline {name!r} to project {settings.project} in {settings.region}'
  with _vertex_endpoint(api_endpoint), _user_errors(action, settings.service_account):
    job = _pipeline_job(spec_path, spec, settings, credentials, job_id)
    job.submit(service_account=settings.service_account, network=settings.network)
  resource = job.gca_resource
  run_id = resource.name.rsplit('/', 1)[-1]
  return SubmittedRun(resource.name, run_id, resource.state.name,
                      f'{_CONSOLE}/{settings.region}/pipelines/runs/{run_id}'
                      f'?project={settings.project}')


def upload_file(local_path: str, gs_uri: str, project: str,
                credentials: Credentials = None) -> None:
  """Copies a local file to gs://bucket/object (e.g. a user dataset's schema, which is not in
  the pipeline image), replacing what is there."""
  from google.cloud import storage  # pylint: disable=import-outside-toplevel
  bucket, _, name = gs_uri[len('gs://'):].partition('/')
  with _user_errors(f'uploading {local_path} to {gs_uri}'):
    client = storage.Client(project=project, credentials=credentials)
    client.bucket(bucket).blob(name).upload_from_filename(local_path)


def create_schedule(spec_path: str, settings: JobSettings, cron: str,
                    max_concurrent_run_count: int = 1,
                    start_time: Optional[datetime.datetime] = None,
                    end_time: Optional[datetime.datetime] = None, *,
                    api_endpoint: Optional[str] = None,
                    credentials: Credentials = None) -> ScheduleInfo:
  """Creates a schedule that runs the compiled spec on `cron` (see validate_cron).

  start_time/end_time need a time zone; None means from now on / forever.
  """
  cron = validate_cron(cron)
  count = max_concurrent_run_count
  if isinstance(count, bool) or not isinstance(count, int) or count < 1:
    raise InvalidSettingError('max_concurrent_run_count', max_concurrent_run_count,
                              'expected a whole number of at least 1')
  start, end = utc_timestamp('start_time', start_time), utc_timestamp('end_time', end_time)
  if start and end and end_time <= start_time:
    raise InvalidSettingError('end_time', end_time, f'it must be after start_time {start}')
  spec = _read_spec(spec_path)
  name = settings.display_name or _pipeline_name(spec)
  action = f'creating schedule {name!r} in project {settings.project} in {settings.region}'
  with _vertex_endpoint(api_endpoint), _user_errors(action, settings.service_account):
    schedule = _aiplatform().PipelineJobSchedule(
        pipeline_job=_pipeline_job(spec_path, spec, settings, credentials, None),
        display_name=name, credentials=credentials, project=settings.project,
        location=settings.region)
    schedule.create(cron=cron, start_time=start, end_time=end,
                    max_concurrent_run_count=max_concurrent_run_count,
                    service_account=settings.service_account, network=settings.network)
  return _schedule_info(schedule.gca_resource, settings.project, settings.region)


def list_schedules(project: str, region: str, *, api_endpoint: Optional[str] = None,
                   credentials: Credentials = None) -> List[ScheduleInfo]:
  """The pipeline schedules of a project in a region, in any state."""
  check_field('project', project)
  check_field('region', region)
  action = f'listing schedules in project {project} in {region}'
  with _vertex_endpoint(api_endpoint), _user_errors(action):
    schedules = _aiplatform().PipelineJobSchedule.list(project=project, location=region,
                                                       credentials=credentials)
  return [_schedule_info(schedule.gca_resource, project, region) for schedule in schedules
          if 'create_pipeline_job_request' in schedule.gca_resource]  # not notebook schedules


def pause_schedule(name: str, project: str, region: str, *, api_endpoint: Optional[str] = None,
                   credentials: Credentials = None) -> ScheduleInfo:
  """Pauses a schedule (resource name, or ID in project/region); returns it as it is now."""
  return _change_schedule('pause', name, project, region, api_endpoint, credentials)


def resume_schedule(name: str, project: str, region: str, *, api_endpoint: Optional[str] = None,
                    credentials: Credentials = None) -> ScheduleInfo:
  """Resumes a paused schedule; returns it as it is now."""
  return _change_schedule('resume', name, project, region, api_endpoint, credentials)


def delete_schedule(name: str, project: str, region: str, *, api_endpoint: Optional[str] = None,
                    credentials: Credentials = None) -> None:
  """Deletes a schedule; runs it already started go on."""
  _change_schedule('delete', name, project, region, api_endpoint, credentials)


def _aiplatform():
  """google.cloud.aiplatform, imported on first use (it takes seconds)."""
  from google.cloud import aiplatform  # pylint: disable=import-outside-toplevel
  return aiplatform


def _read_spec(spec_path: str) -> Dict[str, Any]:
  """The compiled spec's JSON; errors name the path."""
  path = Path(spec_path)
  try:
    spec = json.loads(path.read_text(encoding='utf-8'))
  except FileNotFoundError as error:
    raise VertexJobError(f'pipeline spec {path} does not exist; write it with '
                         f'`python -m pipeline compile --output {path}`') from error
  except OSError as error:
    raise VertexJobError(f'cannot read pipeline spec {path}: {error.strerror}') from error
  except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
    raise VertexJobError(f'pipeline spec {path} is not JSON: {error}') from error
  pipeline_spec = spec.get('pipelineSpec', spec) if isinstance(spec, dict) else None
  if not isinstance(pipeline_spec, dict) or not {'pipelineInfo', 'root'} <= pipeline_spec.keys():
    raise VertexJobError(f'{path} is JSON but not a compiled KFP pipeline spec '
                         '(no pipelineSpec with pipelineInfo and root)')
  return spec


def _pipeline_name(spec: Mapping[str, Any]) -> str:
  return spec.get('displayName') or spec.get('pipelineSpec', spec)['pipelineInfo']['name']


def typed_parameters(spec: Mapping[str, Any], values: Mapping[str, Any]) -> Dict[str, Any]:
  """`values` (e.g. the text of --param NAME=VALUE) typed as the spec's root declares them;
  a name the spec does not declare is left for aiplatform to refuse."""
  declared = parameters_lib.declared(spec.get('pipelineSpec', spec).get('root', {}))
  try:
    return {name: parameters_lib.coerce(name, value, parameters_lib.kind_of(declared[name]))
            if name in declared else value for name, value in values.items()}
  except parameters_lib.ParameterError as error:
    raise InvalidSettingError('parameter_values', dict(values), str(error)) from None


def _pipeline_job(spec_path: str, spec: Mapping[str, Any], settings: JobSettings,
                  credentials: Credentials, job_id: Optional[str]):
  """aiplatform.PipelineJob for the spec; its own checks (parameters, region) fail here."""
  try:
    return _aiplatform().PipelineJob(
        display_name=settings.display_name or _pipeline_name(spec), template_path=str(spec_path),
        job_id=job_id, pipeline_root=settings.pipeline_root,
        parameter_values=typed_parameters(spec, settings.parameter_values) or None,
        enable_caching=settings.enable_caching, encryption_spec_key_name=settings.encryption_key,
        failure_policy=settings.failure_policy,
        labels=settings.labels or None, credentials=credentials, project=settings.project,
        location=settings.region)
  except (ValueError, TypeError) as error:
    raise VertexJobError(f'cannot make a Vertex AI pipeline job from {spec_path} for project '
                         f'{settings.project} in {settings.region}: {error}') from error


def _change_schedule(verb: str, name: str, project: str, region: str,
                     api_endpoint: Optional[str], credentials: Credentials
                     ) -> Optional[ScheduleInfo]:
  check_field('project', project)
  check_field('region', region)
  if isinstance(name, str) and re.fullmatch(r'[A-Za-z0-9_-]+', name):
    name = f'projects/{project}/locations/{region}/schedules/{name}'
  if check_field('schedule', name)['location'] != region:
    raise InvalidSettingError('schedule', name, f'it is not in region {region}')
  action = {'pause': 'pausing', 'resume': 'resuming', 'delete': 'deleting'}[verb]
  get = functools.partial(_aiplatform().PipelineJobSchedule.get, name, project=project,
                          location=region, credentials=credentials)
  with _vertex_endpoint(api_endpoint), _user_errors(f'{action} schedule {name}'):
    getattr(get(), verb)()
    return None if verb == 'delete' else _schedule_info(get().gca_resource, project, region)


def _schedule_info(resource, project: str, region: str) -> ScheduleInfo:
  schedule_id = resource.name.rsplit('/', 1)[-1]
  return ScheduleInfo(
      resource.name, resource.display_name, resource.cron, resource.state.name,
      resource.max_concurrent_run_count, resource.start_time, resource.end_time,
      resource.next_run_time,
      f'{_CONSOLE}/{region}/pipelines/schedules/{schedule_id}?project={project}')


@contextlib.contextmanager
def _vertex_endpoint(api_endpoint: Optional[str]) -> Iterator[None]:
  """Points aiplatform's clients at api_endpoint (over gRPC) for the block."""
  if api_endpoint is None:
    yield
    return
  config = _aiplatform().initializer.global_config
  previous = (config.api_endpoint, config._api_transport)  # pylint: disable=protected-access
  # Without a project, init() would also switch the transport to REST: keep gRPC.
  _aiplatform().init(api_endpoint=api_endpoint, api_transport='grpc')
  try:
    yield
  finally:  # init() can set these but never unset them
    config._api_endpoint, config._api_transport = previous  # pylint: disable=protected-access


_SERVER_ERRORS = (  # (exception types, what happened, what to do)
    ((api_exceptions.PermissionDenied, api_exceptions.Forbidden), 'permission denied',
     'check that you have roles/aiplatform.user on the project{act_as}'),
    ((api_exceptions.Unauthenticated,), 'not authenticated',
     'run `gcloud auth application-default login`'),
    ((api_exceptions.TooManyRequests,), 'quota exceeded',  # ResourceExhausted
     'wait for running pipelines to finish or request more Vertex AI quota for the region'),
    ((api_exceptions.InvalidArgument,), 'Vertex AI rejected the request as invalid',
     'check the compiled spec and the settings'),
    ((api_exceptions.FailedPrecondition,), 'not possible now', ''),
    ((api_exceptions.NotFound,), 'not found', 'check the name, project and region'),
    ((api_exceptions.ServiceUnavailable, api_exceptions.DeadlineExceeded),
     'Vertex AI did not answer', 'check the network and the API endpoint'),
)


@contextlib.contextmanager
def _user_errors(action: str, service_account: Optional[str] = None) -> Iterator[None]:
  """Turns google.api_core, google.auth and aiplatform errors into VertexJobError."""
  try:
    yield
  except api_exceptions.GoogleAPICallError as error:
    code = getattr(error.grpc_status_code, 'name', error.code)
    what, hint = next(((what, hint) for types, what, hint in _SERVER_ERRORS
                       if isinstance(error, types)), (f'Vertex AI call failed ({code})', ''))
    act_as = (f', and roles/iam.serviceAccountUser on {service_account}, which needs '
              'roles/aiplatform.user too') if service_account else ''
    hint = f'; {hint.format(act_as=act_as)}' if hint else ''
    raise VertexJobError(f'{what} {action}: {error.message}{hint}') from error
  except VertexJobError:
    raise
  except ValueError as error:  # aiplatform's own checks, e.g. that it knows the region
    raise VertexJobError(f'cannot send the request {action}: {error}') from error
  except auth_exceptions.DefaultCredentialsError as error:
    raise VertexJobError(f'no Google Cloud credentials {action}: run `gcloud auth '
                         'application-default login` or set GOOGLE_APPLICATION_CREDENTIALS'
                         ) from error
  except auth_exceptions.RefreshError as error:
    raise VertexJobError(f'cannot refresh Google Cloud credentials {action}: {error}') from error
