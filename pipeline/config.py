"""Typed configuration of a local pipeline run. Environment variables are read only in
`LocalConfig.from_env`, at the edge (CLI and runners)."""

import dataclasses
import os
from pathlib import Path
from typing import Mapping, Optional, Tuple

import importlib.util

from components.example_files import ExampleFilesConfig
from trainer.config import TrainConfig

PIPELINE_NAME = 'chicago-taxi'  # KFP v2 allows [a-z0-9-] only.
SCHEMA_PATH = str(Path(__file__).parent / 'schema' / 'schema.pbtxt')
# Located without importing tfx (seconds of TensorFlow start-up) from the installed package.
EMBEDDED_DATA_ROOT = str(
    Path(importlib.util.find_spec('tfx').submodule_search_locations[0]) / 'examples' /
    'chicago_taxi_pipeline' / 'data' / 'simple')
# The Beam DirectRunner in-process: fastest for data this size, and no worker start-up.
# TFX's Beam executors repackage all of TFX as an sdist for remote workers (3-4 s per Beam
# component: tfx/utils/dependency_utils.py) unless a dependency flag is set; the DirectRunner
# runs in this very environment, so one is set, to a value the DirectRunner never reads.
LOCAL_BEAM_ARGS = ('--direct_running_mode=in_memory', '--direct_num_workers=1',
                   '--sdk_container_image=unused-by-the-local-direct-runner')


@dataclasses.dataclass(frozen=True)
class LocalConfig:
  """Where a local run reads, writes and how long it trains."""
  pipeline_home: Path
  data_root: str = EMBEDDED_DATA_ROOT
  pipeline_name: str = PIPELINE_NAME
  # 'csv' or 'tfrecord' (TFRecords of tf.Examples, '*.gz' read as GZIP, imported as they are).
  source: str = 'csv'
  # Files under data_root to read, e.g. 'span-{SPAN}/*.csv': each run ingests the newest span.
  input_pattern: Optional[str] = None
  train_steps: int = 2000
  eval_steps: Optional[int] = None  # None: the whole eval split.
  eval_accuracy_threshold: float = 0.6
  train_config: TrainConfig = TrainConfig()
  # Shards per split and compression of ExampleGen's and Transform's files.
  example_files: ExampleFilesConfig = ExampleFilesConfig()
  beam_pipeline_args: Tuple[str, ...] = LOCAL_BEAM_ARGS
  enable_cache: bool = True

  def __post_init__(self):
    if self.source not in ('csv', 'tfrecord'):
      raise ValueError(f"source must be 'csv' or 'tfrecord' locally, got {self.source!r}")
    if self.train_steps < 1:
      raise ValueError(f'train_steps must be >= 1, got {self.train_steps}')
    if self.eval_steps is not None and self.eval_steps < 1:
      raise ValueError(f'eval_steps must be >= 1 or None, got {self.eval_steps}')
    if not 0.0 <= self.eval_accuracy_threshold <= 1.0:
      raise ValueError(
          f'eval_accuracy_threshold must be in [0, 1], got {self.eval_accuracy_threshold}')

  @property
  def pipeline_root(self) -> str:
    return str(self.pipeline_home / 'pipeline_root')

  @property
  def metadata_path(self) -> str:
    return str(self.pipeline_home / 'metadata.sqlite')

  @property
  def serving_model_dir(self) -> str:
    return str(self.pipeline_home / 'serving_model' / self.pipeline_name)

  @property
  def last_run_path(self) -> Path:
    return self.pipeline_home / 'last_run.json'

  @property
  def log_dir(self) -> Path:
    return self.pipeline_home / 'logs'

  @classmethod
  def from_env(cls, environ: Mapping[str, str] = os.environ, **overrides) -> 'LocalConfig':
    """PIPELINE_HOME (default ./pipeline_home), DATA_ROOT, DATA_SOURCE, INPUT_PATTERN,
    TRAIN_STEPS, NUM_SHARDS, EXAMPLE_COMPRESSION; overrides win (num_shards and compression
    override the example file layout)."""
    values = {'pipeline_home': environ.get('PIPELINE_HOME') or 'pipeline_home'}
    if environ.get('DATA_ROOT'):
      values['data_root'] = environ['DATA_ROOT']
    if environ.get('DATA_SOURCE'):
      values['source'] = environ['DATA_SOURCE']
    if environ.get('INPUT_PATTERN'):
      values['input_pattern'] = environ['INPUT_PATTERN']
    if environ.get('TRAIN_STEPS'):
      values['train_steps'] = _parse_int('TRAIN_STEPS', environ['TRAIN_STEPS'])
    num_shards = overrides.pop('num_shards', None)
    compression = overrides.pop('compression', None)
    values['example_files'] = example_files_from_env(
        environ, num_shards=num_shards, compression=compression)
    values.update({key: value for key, value in overrides.items() if value is not None})
    values['pipeline_home'] = Path(values['pipeline_home']).resolve()
    values['data_root'] = str(Path(values.get('data_root', EMBEDDED_DATA_ROOT)).resolve())
    return cls(**values)


def example_files_from_env(environ: Mapping[str, str], num_shards: Optional[int] = None,
                           compression: Optional[str] = None) -> ExampleFilesConfig:
  """NUM_SHARDS and EXAMPLE_COMPRESSION ('gzip' or 'none'); arguments that are set win."""
  if num_shards is None and environ.get('NUM_SHARDS'):
    num_shards = _parse_int('NUM_SHARDS', environ['NUM_SHARDS'])
  if compression is None and environ.get('EXAMPLE_COMPRESSION'):
    compression = environ['EXAMPLE_COMPRESSION'].strip().lower()
  default = ExampleFilesConfig()
  num_shards = default.num_shards if num_shards is None else num_shards
  compression = compression or default.compression
  # Checked one at a time so the message names the setting the user controls.
  for name, values in (('NUM_SHARDS', {'num_shards': num_shards}),
                       ('EXAMPLE_COMPRESSION', {'compression': compression})):
    try:
      ExampleFilesConfig(**values)
    except ValueError as error:
      raise ValueError(f'{name}: {error}') from None
  return ExampleFilesConfig(num_shards=num_shards, compression=compression)


def _parse_int(name: str, text: str) -> int:
  try:
    return int(text)
  except ValueError:
    raise ValueError(f'{name} must be a whole number, got {text!r}') from None
