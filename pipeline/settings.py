"""The settings of a run: one typed tree, built once from the environment and the command line
(pipeline/environment.py) and taken by every engine (pipeline/engines/).

  RunSettings            what every engine runs
    data: DataSettings       the dataset and where its examples come from
    training: TrainingSettings  steps, the Tuner, the trainer's config
  + what an engine adds: a PipelineHome locally; a Profile on Vertex (pipeline/vertex/profiles.py)
  -> PipelineSettings    what `create_pipeline()` (pipeline/graph.py) builds the graph from

Defaults that belong to the data (pipeline name, steps, data folder and pattern, schema) come
from the dataset definition, applied here once.
"""

import dataclasses
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, TypeVar

from core.beam_args import LOCAL_BEAM_ARGS
from core.example_files import ExampleFilesConfig
from core.home import PipelineHome
import datadefs
from datadefs.definition import Dataset
from pipeline.environment import Environment, SettingsError
from trainer.config import TrainConfig, check_at_least

_T = TypeVar('_T')


@dataclasses.dataclass(frozen=True)
class DataSettings:
  """The dataset, and where its examples come from."""
  dataset: Dataset
  # A folder of data files (CSV or TFRecords) on this machine; None when a BigQuery query is the
  # source, or when DATA_ROOT is unset and the dataset names no data of its own (a run on Vertex
  # reads gs://<bucket>/data/<dataset>; a local run needs one: `local_data_root`).
  data_root: Optional[str]
  # Files under data_root as the user named them, e.g. 'span-{SPAN}/*.csv' (the newest span).
  input_pattern: Optional[str] = None
  # One of the dataset kind's sources (datadefs/kinds.py): 'csv', 'tfrecord', 'bigquery'.
  source: str = 'csv'
  bigquery_query: Optional[str] = None
  # Shards per split and compression of ExampleGen's and Transform's files.
  example_files: ExampleFilesConfig = ExampleFilesConfig()
  # Whether data_root is the dataset's own default folder (not set by the user).
  own_data: bool = False

  def __post_init__(self):
    sources = self.dataset.kind_info.sources
    if self.source not in sources:
      raise SettingsError(f'DATA_SOURCE must be one of {list(sources)} for a '
                          f'{self.dataset.kind} dataset, got {self.source!r}')
    if self.source == 'bigquery' and not self.bigquery_query:
      raise SettingsError('DATA_SOURCE bigquery needs BIGQUERY_QUERY')

  def local_data_root(self) -> str:
    """data_root, for a run that reads data on this machine; SettingsError when there is none."""
    if not self.data_root:
      raise SettingsError(f'dataset {self.dataset.name!r} has no data of its own here: set '
                          'DATA_ROOT to the folder holding its data')
    return self.data_root

  @property
  def files_pattern(self) -> Optional[str]:
    """The pattern the ExampleGen reads under data_root: the user's, else the dataset's own
    (its data folder may hold other files: palmerpenguins has penguins-raw.csv beside
    penguins.csv); None reads every file."""
    if self.input_pattern or not self.own_data:
      return self.input_pattern
    return self.dataset.default_input_pattern


@dataclasses.dataclass(frozen=True)
class TrainingSettings:
  """How long to train, the optional Tuner, and the trainer's own config."""
  # None: chosen from the row count when training starts.
  train_steps: Optional[int] = None
  eval_steps: Optional[int] = None  # None: the whole eval split.
  # The Tuner (off at 0): trials of a random search, each trained tuner_steps steps (None:
  # sized from the row count, like the Trainer).
  tuner_trials: int = 0
  tuner_steps: Optional[int] = None
  train_config: TrainConfig = TrainConfig()

  def __post_init__(self):
    check_at_least(self, 0, ('tuner_trials',))
    for name in ('train_steps', 'eval_steps', 'tuner_steps'):
      if getattr(self, name) is not None:
        check_at_least(self, 1, (name,))


@dataclasses.dataclass(frozen=True)
class RunSettings:
  """What every engine runs."""
  data: DataSettings
  training: TrainingSettings = TrainingSettings()
  # False (CACHE=0, --no-cache): every step runs. True: steps may come from the cache as the
  # pipeline compiled them (LocalDagRunner: every step; a Vertex spec: each task's
  # cachingOptions).
  enable_cache: bool = True

  @property
  def dataset(self) -> Dataset:
    return self.data.dataset


def run_settings(env: Environment) -> RunSettings:
  """The settings the environment (flags applied) describes, the dataset's defaults filled in."""
  dataset = _named('DATASET', lambda: datadefs.load(env.dataset or datadefs.DEFAULT))
  own_data = not env.data_root
  data_root = (str(Path(env.data_root).resolve()) if env.data_root else
               None if env.bigquery_query or not dataset.default_data_root else
               _named('DATASET', lambda: datadefs.data_root(
                   dataset, PipelineHome.at(env.pipeline_home).generated_data)))
  files = ExampleFilesConfig()
  files = _named('NUM_SHARDS', lambda: dataclasses.replace(
      files, num_shards=env.num_shards if env.num_shards is not None else files.num_shards))
  files = _named('EXAMPLE_COMPRESSION', lambda: dataclasses.replace(
      files, compression=env.example_compression or files.compression))
  data = DataSettings(
      dataset=dataset, data_root=data_root, input_pattern=env.input_pattern,
      source=env.data_source or ('bigquery' if env.bigquery_query else
                                 dataset.kind_info.sources[0]),
      bigquery_query=env.bigquery_query, example_files=files, own_data=own_data)
  training = TrainingSettings(
      train_steps=(env.train_steps if env.train_steps is not None else
                   dataset.train_steps or None),
      tuner_trials=env.tuner_trials or 0, tuner_steps=env.tuner_steps)
  return RunSettings(data=data, training=training,
                     enable_cache=env.cache if env.cache is not None else True)


def _named(variable: str, make: Callable[[], _T]) -> _T:
  """make(), its ValueError prefixed with the variable it came from."""
  try:
    return make()
  except SettingsError:
    raise
  except ValueError as error:
    message = str(error)
    raise SettingsError(message if message.startswith(variable) else
                        f'{variable}: {message}') from None


@dataclasses.dataclass(frozen=True)
class VertexTargets:
  """Where the Trainer and Pusher act on Vertex AI.

  `training_args` (a Vertex CustomJob: project, job_spec.worker_pool_specs, ...) runs the
  Trainer as its own custom job on those machines; `serving` ({'container': the serving
  container (pipeline/vertex/serving.py), 'args': {project_id, endpoint_name, machine_type},
  'model_name': the registry model, 'challengers': bool}) makes the Pusher upload a version to
  the Vertex Model Registry and deploy the champion to the endpoint
  (components/vertex_pusher.py).
  """
  region: str
  training_args: Optional[Dict[str, Any]] = None
  serving: Optional[Dict[str, Any]] = None


@dataclasses.dataclass(frozen=True)
class PipelineSettings:
  """What create_pipeline() builds a graph from: the run's settings, and where the engine
  puts things."""
  run: RunSettings
  pipeline_name: str
  pipeline_root: str
  serving_model_dir: str
  # The curated schema the components read (on Vertex, the image's copy, or the bucket's).
  schema_path: str
  # The ExampleGen's input folder as the engine sees it (a gs:// path on Vertex).
  data_root: Optional[str] = None
  # Compiled specs: the name of the pipeline parameter the ExampleGen reads its folder from
  # (default: data_root), so a run of the same spec can read another folder
  # (`--param data_root=gs://...`); None: the folder is a constant (LocalDagRunner).
  data_root_parameter: Optional[str] = None
  input_pattern: Optional[str] = None
  beam_pipeline_args: Tuple[str, ...] = LOCAL_BEAM_ARGS
  metadata_connection_config: Any = None  # LocalDagRunner's MLMD store
  vertex: Optional[VertexTargets] = None
  # After the Pusher: TFX's BulkInferrer predicts the eval split with the blessed model.
  bulk_inference: bool = False
  # Per-component container limits, by component id (Vertex): ResourceSpec protos.
  resources: Mapping[str, Any] = dataclasses.field(default_factory=dict)

  @property
  def dataset(self) -> Dataset:
    return self.run.dataset

  @property
  def training(self) -> TrainingSettings:
    return self.run.training
