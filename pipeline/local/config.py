"""Typed configuration of a local pipeline run. Environment variables are read only in
`LocalConfig.from_env`, at the edge (CLI and runners)."""

import dataclasses
import os
from pathlib import Path
from typing import Mapping, Optional, Tuple

import importlib.util

import datasets
from components.example_files import ExampleFilesConfig
from datasets.definition import Dataset
from trainer.config import TrainConfig

# The Chicago taxi sample (the `taxi` dataset's data), located without importing tfx (seconds
# of TensorFlow start-up) from the installed package.
EMBEDDED_DATA_ROOT = str(
    Path(importlib.util.find_spec('tfx').submodule_search_locations[0]) / 'examples' /
    'chicago_taxi_pipeline' / 'data' / 'simple')
# The Beam DirectRunner. Its running mode is left to the components: in-process for small
# inputs, every core for large ones (components/direct_runner.py).
# TFX's Beam executors repackage all of TFX as an sdist for remote workers (3-4 s per Beam
# component: tfx/utils/dependency_utils.py) unless a dependency flag is set; the DirectRunner
# runs in this very environment, so one is set, to a value the DirectRunner never reads.
LOCAL_BEAM_ARGS = ('--sdk_container_image=unused-by-the-local-direct-runner',)


@dataclasses.dataclass(frozen=True)
class LocalConfig:
  """Where a local run reads, writes and how long it trains. Unset fields come from the
  dataset definition: data_root, pipeline_name and train_steps."""
  pipeline_home: Path
  dataset: Dataset = dataclasses.field(default_factory=datasets.load)
  data_root: str = ''
  pipeline_name: str = ''
  # 'csv' or 'tfrecord' (TFRecords of tf.Examples, '*.gz' read as GZIP, imported as they are).
  source: str = 'csv'
  # Files under data_root to read, e.g. 'span-{SPAN}/*.csv': each run ingests the newest span.
  input_pattern: Optional[str] = None
  # None: the dataset's train_steps, else chosen from the row count when training starts.
  train_steps: Optional[int] = None
  eval_steps: Optional[int] = None  # None: the whole eval split.
  train_config: TrainConfig = TrainConfig()
  # The Tuner's trials (TUNER_TRIALS; 0: no Tuner) and steps per trial (TUNER_STEPS).
  tuner_trials: int = 0
  tuner_steps: Optional[int] = None
  # Shards per split and compression of ExampleGen's and Transform's files.
  example_files: ExampleFilesConfig = ExampleFilesConfig()
  beam_pipeline_args: Tuple[str, ...] = LOCAL_BEAM_ARGS
  enable_cache: bool = True

  def __post_init__(self):
    if self.source not in ('csv', 'tfrecord'):
      raise ValueError(f"source must be 'csv' or 'tfrecord' locally, got {self.source!r}")
    if self.train_steps is not None and self.train_steps < 1:
      raise ValueError(f'train_steps must be >= 1, got {self.train_steps}')
    if self.tuner_trials < 0:
      raise ValueError(f'TUNER_TRIALS must be >= 0 (0: no Tuner), got {self.tuner_trials}')
    if self.tuner_steps is not None and self.tuner_steps < 1:
      raise ValueError(f'TUNER_STEPS must be >= 1, got {self.tuner_steps}')
    if self.eval_steps is not None and self.eval_steps < 1:
      raise ValueError(f'eval_steps must be >= 1 or None, got {self.eval_steps}')
    # The dataset's defaults for what is not set (a frozen dataclass: set once, here).
    if not self.data_root:
      object.__setattr__(self, 'data_root', datasets.data_root(self.dataset))
      if self.input_pattern is None and self.dataset.default_input_pattern:
        object.__setattr__(self, 'input_pattern', self.dataset.default_input_pattern)
    if not self.pipeline_name:
      object.__setattr__(self, 'pipeline_name', self.dataset.pipeline_name)
    if self.train_steps is None and self.dataset.train_steps:
      object.__setattr__(self, 'train_steps', self.dataset.train_steps)

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
    """PIPELINE_HOME (default ./pipeline_home), DATASET (a bundled name or a folder; default
    taxi), DATA_ROOT, DATA_SOURCE, INPUT_PATTERN, TRAIN_STEPS, TUNER_TRIALS, TUNER_STEPS, NUM_SHARDS,
    EXAMPLE_COMPRESSION; overrides win (num_shards and compression override the example file
    layout)."""
    values = {'pipeline_home': environ.get('PIPELINE_HOME') or 'pipeline_home'}
    if 'dataset' not in overrides:
      values['dataset'] = datasets.load(environ.get('DATASET') or datasets.DEFAULT)
    if environ.get('DATA_ROOT'):
      values['data_root'] = environ['DATA_ROOT']
    if environ.get('DATA_SOURCE'):
      values['source'] = environ['DATA_SOURCE']
    if environ.get('INPUT_PATTERN'):
      values['input_pattern'] = environ['INPUT_PATTERN']
    for name in ('TRAIN_STEPS', 'TUNER_TRIALS', 'TUNER_STEPS'):
      if environ.get(name):
        values[name.lower()] = _parse_int(name, environ[name])
    num_shards = overrides.pop('num_shards', None)
    compression = overrides.pop('compression', None)
    values['example_files'] = example_files_from_env(
        environ, num_shards=num_shards, compression=compression)
    values.update({key: value for key, value in overrides.items() if value is not None})
    values['pipeline_home'] = Path(values['pipeline_home']).resolve()
    if values.get('data_root'):
      values['data_root'] = str(Path(values['data_root']).resolve())
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
