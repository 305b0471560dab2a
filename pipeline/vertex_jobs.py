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
import zoneinfo
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional

from google.api_core import exceptions as api_exceptions
from google.auth import credentials as auth_credentials
from google.auth import exceptions as auth_exceptions

Credentials = Optional[auth_credentials.Credentials]  # None: Application Default Credentials
_CONSOLE = 'https://console.cloud.google.com/vertex-ai/locations'
_RULES = {  # field: (pattern, what a valid value looks like)
    'project': (r'([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]|[0-9]{1,20}',
                'a GCP project ID like my-proj, or a project number'),
    'region': (r'[a-z]+(-[a-z]+)*[0-9]*', 'a Vertex AI region like us-central1'),
    'pipeline_root': (r'gs://[a-z0-9][a-z0-9._-]{1,220}[a-z0-9](/.*)?',
                      'a Cloud Storage URI like gs://my-bucket/pipeline_root'),
    'display_name': (r'.{1,128}', '1 to 128 characters'),
    'service_account': (r'[a-z0-9._-]+@[a-z0-9.-]+\.gserviceaccount\.com',
                        'a service account email like runner@my-proj.iam.gserviceaccount.com'),
    'network': (r'projects/[^/]+/global/networks/[^/]+',
                'projects/<project number>/global/networks/<network>'),
    'encryption_key': (r'projects/[^/]+/locations/(?P<location>[^/]+)/keyRings/[^/]+/'
                       r'cryptoKeys/[^/]+',
                       'projects/<p>/locations/<region>/keyRings/<ring>/cryptoKeys/<key>'),
    'label key': (r'[a-z][a-z0-9_-]{0,62}', 'a lowercase letter, then up to 62 of a-z 0-9 _ -'),
    'label value': (r'[a-z0-9_-]{0,63}', 'up to 63 of a-z 0-9 _ -'),
    'job_id': (r'[a-z][-a-z0-9]{0,127}', 'a lowercase letter, then up to 127 of a-z 0-9 -'),
    'schedule': (r'projects/[^/]+/locations/(?P<location>[^/]+)/schedules/[^/]+',
                 'a schedule ID or projects/<p>/locations/<region>/schedules/<id>'),
}
_CRON_TZ = re.compile(r'(CRON_TZ|TZ)=(?P<zone>\S*)')
_MONTHS = dict(zip('JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC'.split(), range(1, 13)))
_WEEKDAYS = dict(zip('SUN MON TUE WED THU FRI SAT'.split(), range(7)))
_CRON_FIELDS = (('minute', 0, 59, {}), ('hour', 0, 23, {}), ('day-of-month', 1, 31, {}),
                ('month', 1, 12, _MONTHS), ('day-of-week', 0, 7, _WEEKDAYS))


class VertexJobError(Exception):
  """A Vertex AI request failed or could not be made; the message is written for the user."""


class InvalidSettingError(VertexJobError, ValueError):
  """A setting is invalid; raised before any request is sent."""

  def __init__(self, field: str, value: Any, reason: str):
    super().__init__(f'invalid {field} {value!r}: {reason}')
    self.field = field
    self.value = value


@dataclasses.dataclass(frozen=True)
class JobSettings:
  """Where and how the pipeline runs on Vertex AI; checked when constructed.

  display_name None uses the spec's pipeline name. enable_caching None keeps each step's
  compiled setting; True/False overrides every step. parameter_values must be declared by the
  spec. encryption_key (CMEK) must be in `region`.
  """
  project: str
  region: str
  pipeline_root: str
  display_name: Optional[str] = None
  service_account: Optional[str] = None
  network: Optional[str] = None
  labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
  encryption_key: Optional[str] = None
  enable_caching: Optional[bool] = None
  parameter_values: Mapping[str, Any] = dataclasses.field(default_factory=dict)

  def __post_init__(self):
    for field in ('project', 'region', 'pipeline_root', 'display_name', 'service_account',
                  'network', 'encryption_key'):
      if field in ('project', 'region', 'pipeline_root') or getattr(self, field) is not None:
        _check(field, getattr(self, field))
    key_region = self.encryption_key and _check('encryption_key', self.encryption_key)['location']
    if key_region and key_region != self.region:
      raise InvalidSettingError('encryption_key', self.encryption_key,
                                f'the key is in {key_region}, it must be in {self.region}')
    if not (self.enable_caching is None or isinstance(self.enable_caching, bool)):
      raise InvalidSettingError('enable_caching', self.enable_caching, 'expected True/False/None')
    labels, parameters = dict(self.labels), dict(self.parameter_values)
    if len(labels) > 64:
      raise InvalidSettingError('labels', labels, f'at most 64 labels, got {len(labels)}')
    for key, value in labels.items():
      _check('label key', key)
      _check('label value', value)
    for name, value in parameters.items():
      if not (isinstance(name, str) and name):
        raise InvalidSettingError('parameter name', name, 'expected a non-empty string')
      if not isinstance(value, (str, int, float, list, dict)):
        raise InvalidSettingError(f'parameter {name}', value,
                                  'expected a str, int, float, bool, list or dict')
    object.__setattr__(self, 'labels', labels)  # own copies, so the settings stay frozen
    object.__setattr__(self, 'parameter_values', parameters)


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
    _check('job_id', job_id)
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
  start, end = _timestamp('start_time', start_time), _timestamp('end_time', end_time)
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
  _check('project', project)
  _check('region', region)
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


def validate_cron(cron: str) -> str:
  """Checks a 5-field unix cron, optionally prefixed by TZ=<IANA zone> or CRON_TZ=<zone>
  (without one Vertex AI uses UTC). Returns it with single spaces."""
  parts = cron.split() if isinstance(cron, str) else []
  prefix = parts[:1] if parts and _CRON_TZ.fullmatch(parts[0]) else []
  if prefix and _CRON_TZ.fullmatch(prefix[0])['zone'] not in _time_zones():
    raise InvalidSettingError('cron', cron, f'unknown time zone in {prefix[0]!r}; expected an '
                              'IANA name like TZ=America/Chicago')
  fields = parts[len(prefix):]
  if len(fields) != 5:
    raise InvalidSettingError('cron', cron, 'expected 5 fields (minute hour day-of-month month '
                              'day-of-week) after an optional TZ=<zone>')
  for (label, low, high, names), text in zip(_CRON_FIELDS, fields):
    if not all(_cron_item_ok(item, low, high, names) for item in text.split(',')):
      raise InvalidSettingError('cron', cron, f'bad {label} field {text!r}: expected *, numbers '
                                f'{low}-{high}, ranges a-b, lists a,b and steps */n or a-b/n')
  return ' '.join(prefix + fields)


def _aiplatform():
  """google.cloud.aiplatform, imported on first use (it takes seconds)."""
  from google.cloud import aiplatform  # pylint: disable=import-outside-toplevel
  return aiplatform


def _check(field: str, value: Any) -> 're.Match[str]':
  match = re.fullmatch(_RULES[field][0], value) if isinstance(value, str) else None
  if not match:
    raise InvalidSettingError(field, value, f'expected {_RULES[field][1]}')
  return match


def _cron_item_ok(item: str, low: int, high: int, names: Mapping[str, int]) -> bool:
  base, slash, step = item.partition('/')
  if slash and not (step.isascii() and step.isdigit() and int(step) > 0):
    return False
  if base == '*':
    return True
  values = [int(b) if b.isascii() and b.isdigit() else names.get(b.upper())
            for b in base.split('-')]
  return (len(values) <= 2 and all(v is not None and low <= v <= high for v in values)
          and values == sorted(values))


@functools.lru_cache(maxsize=1)
def _time_zones() -> frozenset:
  return frozenset(zoneinfo.available_timezones())


def _timestamp(field: str, value: Optional[datetime.datetime]) -> Optional[str]:
  if value is None:
    return None
  if not isinstance(value, datetime.datetime) or value.utcoffset() is None:
    raise InvalidSettingError(field, value, 'expected a datetime with a time zone')
  return value.astimezone(datetime.timezone.utc).isoformat().replace('+00:00', 'Z')


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


def _pipeline_job(spec_path: str, spec: Mapping[str, Any], settings: JobSettings,
                  credentials: Credentials, job_id: Optional[str]):
  """aiplatform.PipelineJob for the spec; its own checks (parameters, region) fail here."""
  try:
    return _aiplatform().PipelineJob(
        display_name=settings.display_name or _pipeline_name(spec), template_path=str(spec_path),
        job_id=job_id, pipeline_root=settings.pipeline_root,
        parameter_values=settings.parameter_values or None,
        enable_caching=settings.enable_caching, encryption_spec_key_name=settings.encryption_key,
        labels=settings.labels or None, credentials=credentials, project=settings.project,
        location=settings.region)
  except (ValueError, TypeError) as error:
    raise VertexJobError(f'cannot make a Vertex AI pipeline job from {spec_path} for project '
                         f'{settings.project} in {settings.region}: {error}') from error


def _change_schedule(verb: str, name: str, project: str, region: str,
                     api_endpoint: Optional[str], credentials: Credentials
                     ) -> Optional[ScheduleInfo]:
  _check('project', project)
  _check('region', region)
  if isinstance(name, str) and re.fullmatch(r'[A-Za-z0-9_-]+', name):
    name = f'projects/{project}/locations/{region}/schedules/{name}'
  if _check('schedule', name)['location'] != region:
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
