"""Settings of Vertex AI pipeline runs and schedules, validated before any request is sent:
JobSettings, cron strings, times. Errors name the field and the bad value."""

import dataclasses
import datetime
import re
from typing import Any, Mapping, Optional

from vertex_local import cron as cron_lib

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
  failure_policy: Optional[str] = None  # 'slow' or 'fast'; None: Vertex's default (slow)

  def __post_init__(self):
    for field in ('project', 'region', 'pipeline_root', 'display_name', 'service_account',
                  'network', 'encryption_key'):
      if field in ('project', 'region', 'pipeline_root') or getattr(self, field) is not None:
        check_field(field, getattr(self, field))
    key_region = (self.encryption_key and
                  check_field('encryption_key', self.encryption_key)['location'])
    if key_region and key_region != self.region:
      raise InvalidSettingError('encryption_key', self.encryption_key,
                                f'the key is in {key_region}, it must be in {self.region}')
    if self.failure_policy not in (None, 'slow', 'fast'):
      raise InvalidSettingError('failure_policy', self.failure_policy, "expected 'slow' or 'fast'")
    if not (self.enable_caching is None or isinstance(self.enable_caching, bool)):
      raise InvalidSettingError('enable_caching', self.enable_caching, 'expected True/False/None')
    labels, parameters = dict(self.labels), dict(self.parameter_values)
    if len(labels) > 64:
      raise InvalidSettingError('labels', labels, f'at most 64 labels, got {len(labels)}')
    for key, value in labels.items():
      check_field('label key', key)
      check_field('label value', value)
    for name, value in parameters.items():
      if not (isinstance(name, str) and name):
        raise InvalidSettingError('parameter name', name, 'expected a non-empty string')
      if not isinstance(value, (str, int, float, list, dict)):
        raise InvalidSettingError(f'parameter {name}', value,
                                  'expected a str, int, float, bool, list or dict')
    object.__setattr__(self, 'labels', labels)  # own copies, so the settings stay frozen
    object.__setattr__(self, 'parameter_values', parameters)


def validate_cron(cron: str) -> str:
  """Checks a 5-field unix cron, optionally prefixed by TZ=<IANA zone> or CRON_TZ=<zone>
  (without one Vertex AI uses UTC), with cronsim (vertex_local/cron.py). Returns it with single
  spaces."""
  try:
    return cron_lib.parse(cron).text
  except cron_lib.CronError as error:
    raise InvalidSettingError('cron', cron, str(error)) from None


def check_field(field: str, value: Any) -> 're.Match[str]':
  match = re.fullmatch(_RULES[field][0], value) if isinstance(value, str) else None
  if not match:
    raise InvalidSettingError(field, value, f'expected {_RULES[field][1]}')
  return match


def utc_timestamp(field: str, value: Optional[datetime.datetime]) -> Optional[str]:
  if value is None:
    return None
  if not isinstance(value, datetime.datetime) or value.utcoffset() is None:
    raise InvalidSettingError(field, value, 'expected a datetime with a time zone')
  return value.astimezone(datetime.timezone.utc).isoformat().replace('+00:00', 'Z')
