"""The one typed settings object `create_pipeline(settings)` takes (pipeline/graph.py). The
local runner (pipeline/local/dag_runner.py) and the Vertex compiler (pipeline/vertex/compiler.py)
each fill it from their own config; defaults that belong to the data (pipeline name, steps,
blessing threshold, schema) come from the dataset definition."""

import dataclasses
from typing import Any, Dict, Mapping, Optional, Tuple

from ml_metadata.proto import metadata_store_pb2
from kfp.pipeline_spec import pipeline_spec_pb2

from components.example_files import ExampleFilesConfig
from datasets.definition import Dataset
from pipeline.sources import SOURCES
from trainer.config import TrainConfig

ResourceSpec = pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec.ResourceSpec


@dataclasses.dataclass(frozen=True)
class VertexTargets:
  """Where the Trainer and Pusher act on Vertex AI.

  `training_args` (a Vertex CustomJob: project, job_spec.worker_pool_specs, ...) runs the
  Trainer as its own custom job on those machines; `serving` ({'image': ..., 'args':
  {project_id, endpoint_name, ...}}) makes the Pusher upload to Vertex Model Registry and deploy
  to the endpoint.
  """
  region: str
  training_args: Optional[Dict[str, Any]] = None
  serving: Optional[Dict[str, Any]] = None


@dataclasses.dataclass(frozen=True)
class PipelineSettings:
  pipeline_name: str
  pipeline_root: str
  dataset: Dataset
  serving_model_dir: str
  # Where ExampleGen reads: a folder of CSV files or TFRecords (unused for BigQuery).
  data_root: Optional[str] = None
  # Files under data_root, e.g. 'span-{SPAN}/*.csv' to ingest the newest span.
  input_pattern: Optional[str] = None
  source: str = 'csv'
  bigquery_query: Optional[str] = None
  # The curated schema the components read: default the dataset's file (on Vertex, the
  # image's copy).
  schema_path: Optional[str] = None
  # None: chosen from the row count when training starts.
  train_steps: Optional[int] = None
  eval_steps: Optional[int] = None  # None: the whole eval split.
  train_config: TrainConfig = TrainConfig()
  # The Tuner (off at 0): trials of a random search over learning rate and hidden layers, each
  # trained tuner_steps steps (None: sized from the row count, like the Trainer).
  tuner_trials: int = 0
  tuner_steps: Optional[int] = None
  # Shards per split and compression of ExampleGen's and Transform's files.
  example_files: ExampleFilesConfig = ExampleFilesConfig()
  beam_pipeline_args: Tuple[str, ...] = ()
  metadata_connection_config: Optional[metadata_store_pb2.ConnectionConfig] = None
  enable_cache: bool = True
  vertex: Optional[VertexTargets] = None
  # Per-component CPU/memory limits, by component id (Vertex).
  resources: Mapping[str, ResourceSpec] = dataclasses.field(default_factory=dict)

  def __post_init__(self):
    if self.source not in SOURCES:
      raise ValueError(f'source must be one of {SOURCES}, got {self.source!r}')
    if self.source == 'bigquery' and not self.bigquery_query:
      raise ValueError('source "bigquery" needs a query')
    if self.source != 'bigquery' and not self.data_root:
      raise ValueError(f'source {self.source!r} needs data_root, the folder to read')
    if self.tuner_trials < 0:
      raise ValueError(f'tuner_trials must be >= 0 (0: no Tuner), got {self.tuner_trials}')
    for name in ('train_steps', 'eval_steps', 'tuner_steps'):
      value = getattr(self, name)
      if value is not None and value < 1:
        raise ValueError(f'{name} must be >= 1 or None, got {value}')

  @property
  def schema(self) -> str:
    return self.schema_path or self.dataset.schema_path
