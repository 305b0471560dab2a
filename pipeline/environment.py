"""Every environment variable the project reads, declared once and read once, at the edge, into
typed values. The command line's flags override the variable they stand for; errors name the
variable (or flag) and the bad value.

`read()` is called by the CLI and the tfx CLI's entry files; everything below them takes the
typed `Environment` (or the settings built from it: pipeline/settings.py).
"""

import os
from typing import Any, Dict, Mapping, Optional

import pydantic
from pydantic import Field


class SettingsError(ValueError):
  """A variable (or the flag standing for it) has a bad value; the message names it."""


class Environment(pydantic.BaseModel):
  """The variables, by field; each field's alias is the variable's name."""
  model_config = pydantic.ConfigDict(frozen=True, extra='ignore', populate_by_name=True)

  # What to train on.
  dataset: Optional[str] = Field(None, alias='DATASET', description=(
      'a bundled dataset (taxi, penguins, taxi_fare, digits) or a folder holding dataset.toml; '
      'default taxi'))
  data_root: Optional[str] = Field(None, alias='DATA_ROOT', description=(
      "the folder of data files; default the dataset's own data"))
  data_source: Optional[str] = Field(None, alias='DATA_SOURCE', description=(
      'csv (default) or tfrecord (TFRecords of tf.Examples, imported as they are)'))
  input_pattern: Optional[str] = Field(None, alias='INPUT_PATTERN', description=(
      "files under DATA_ROOT to read, e.g. 'span-{SPAN}/*.csv' for the newest span"))
  bigquery_query: Optional[str] = Field(None, alias='BIGQUERY_QUERY', description=(
      'Vertex: read examples from this BigQuery query instead of files'))
  # Example files of ExampleGen and Transform.
  num_shards: Optional[int] = Field(None, alias='NUM_SHARDS', description=(
      'files per split, at least (default 8)'))
  example_compression: Optional[str] = Field(None, alias='EXAMPLE_COMPRESSION', description=(
      'gzip (default) or none'))
  # Training.
  train_steps: Optional[int] = Field(None, alias='TRAIN_STEPS', description=(
      "training steps; default the dataset's train_steps, else sized from the row count"))
  tuner_trials: Optional[int] = Field(None, alias='TUNER_TRIALS', description=(
      'trials of the Tuner before the Trainer (0: no Tuner)'))
  tuner_steps: Optional[int] = Field(None, alias='TUNER_STEPS', description=(
      'training steps per Tuner trial; default sized from the row count'))
  cache: Optional[bool] = Field(None, alias='CACHE', description=(
      '0: run every step, taking nothing from the step cache (default 1); the flag --no-cache'))
  # Where a local run writes.
  pipeline_home: Optional[str] = Field(None, alias='PIPELINE_HOME', description=(
      'where runs write (default ./pipeline_home)'))
  # Vertex AI: the deployment profile and identity.
  profile: Optional[str] = Field(None, alias='PROFILE', description='deployment profile')
  profiles_file: Optional[str] = Field(None, alias='PROFILES_FILE', description=(
      "a TOML file of a team's own profiles"))
  gcp_project: Optional[str] = Field(None, alias='GCP_PROJECT')
  gcp_region: Optional[str] = Field(None, alias='GCP_REGION')
  gcs_bucket: Optional[str] = Field(None, alias='GCS_BUCKET')
  pipeline_image: Optional[str] = Field(None, alias='PIPELINE_IMAGE')
  pipeline_image_gpu: Optional[str] = Field(None, alias='PIPELINE_IMAGE_GPU')
  pipeline_image_tpu: Optional[str] = Field(None, alias='PIPELINE_IMAGE_TPU')
  pipeline_service_account: Optional[str] = Field(None, alias='PIPELINE_SERVICE_ACCOUNT')
  training_service_account: Optional[str] = Field(None, alias='TRAINING_SERVICE_ACCOUNT')
  vpc_network: Optional[str] = Field(None, alias='VPC_NETWORK')
  cmek_key: Optional[str] = Field(None, alias='CMEK_KEY')
  vertex_endpoint_name: Optional[str] = Field(None, alias='VERTEX_ENDPOINT_NAME')
  pipeline_labels: Optional[str] = Field(None, alias='PIPELINE_LABELS', description=(
      'labels of every Vertex resource: team=ml,env=prod'))

  @pydantic.field_validator('example_compression', mode='before')
  @classmethod
  def _lower_case(cls, value):
    return value.strip().lower() if isinstance(value, str) else value

def read(environ: Mapping[str, str] = os.environ, **flags: Any) -> Environment:
  """The environment's variables, with `flags` (by field name, e.g. train_steps=7) overriding
  the variable each stands for. An empty variable counts as unset."""
  values: Dict[str, Any] = {alias: value for alias, value in environ.items()
                            if alias in _ALIASES and value.strip() != ''}
  values.update({_ALIASES_BY_FIELD[name]: value for name, value in flags.items()
                 if value is not None})
  try:
    return Environment.model_validate(values)
  except pydantic.ValidationError as error:
    raise SettingsError('; '.join(_describe(e) for e in error.errors())) from None


def _describe(error: Dict[str, Any]) -> str:
  name = str(error['loc'][0]) if error.get('loc') else '?'
  got = error.get('input')
  if error['type'] in ('int_parsing', 'int_from_float', 'int_type'):
    return f'{name} must be a whole number, got {got!r}'
  return f'{name}: {error["msg"]}, got {got!r}'


_ALIASES_BY_FIELD = {name: field.alias for name, field in Environment.model_fields.items()}
_ALIASES = frozenset(_ALIASES_BY_FIELD.values())
VARIABLES = tuple(sorted(_ALIASES))  # every variable the project reads
