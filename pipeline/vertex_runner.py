"""Compiles the same `create_pipeline()` into a KFP v2 pipeline spec for Vertex AI Pipelines.

Offline: compiling writes JSON and touches no cloud service. `make compile` reaches it through
the CLI; `tfx pipeline create --engine=vertex` through ../kubeflow_v2_runner.py.
"""

import dataclasses
import os
from pathlib import Path
from typing import Mapping

from tfx import v1 as tfx

from pipeline import config as config_lib
from pipeline import pipeline as pipeline_lib
from trainer.config import TrainConfig

# Where the pipeline image keeps this project's source (see infra/Dockerfile): components read
# the curated schema from there, so no path of the compiling machine reaches the spec.
IMAGE_SOURCE_DIR = '/app'


@dataclasses.dataclass(frozen=True)
class VertexConfig:
  project: str = 'my-gcp-project'
  region: str = 'us-central1'
  bucket: str = 'my-gcp-project-taxi-pipeline'
  image: str = 'us-central1-docker.pkg.dev/my-gcp-project/taxi/taxi-pipeline:latest'
  pipeline_name: str = config_lib.PIPELINE_NAME
  train_steps: int = 2000
  eval_accuracy_threshold: float = 0.6
  train_config: TrainConfig = TrainConfig()

  def __post_init__(self):
    for name in ('project', 'region', 'bucket', 'image'):
      if not getattr(self, name):
        raise ValueError(f'Vertex config field {name!r} is empty')
    if self.bucket.startswith('gs://'):
      raise ValueError(f'bucket is a bucket name, not a URL: got {self.bucket!r}')

  @property
  def pipeline_root(self) -> str:
    return f'gs://{self.bucket}/pipeline_root/{self.pipeline_name}'

  @property
  def data_root(self) -> str:
    return f'gs://{self.bucket}/data/{self.pipeline_name}'

  @property
  def serving_model_dir(self) -> str:
    return f'gs://{self.bucket}/serving_model/{self.pipeline_name}'

  @classmethod
  def from_env(cls, environ: Mapping[str, str] = os.environ) -> 'VertexConfig':
    """GCP_PROJECT, GCP_REGION, GCS_BUCKET, PIPELINE_IMAGE override the defaults."""
    names = {'GCP_PROJECT': 'project', 'GCP_REGION': 'region', 'GCS_BUCKET': 'bucket',
             'PIPELINE_IMAGE': 'image'}
    return cls(**{field: environ[env] for env, field in names.items() if environ.get(env)})


def build(config: VertexConfig) -> tfx.dsl.Pipeline:
  return pipeline_lib.create_pipeline(
      pipeline_name=config.pipeline_name,
      pipeline_root=config.pipeline_root,
      data_root=config.data_root,
      schema_path=f'{IMAGE_SOURCE_DIR}/pipeline/schema/schema.pbtxt',
      serving_model_dir=config.serving_model_dir,
      train_steps=config.train_steps,
      eval_steps=None,
      train_config=config.train_config,
      eval_accuracy_threshold=config.eval_accuracy_threshold)


def compile_spec(config: VertexConfig, output_path: str) -> str:
  """Writes the KFP v2 JSON spec to `output_path` and returns that path."""
  output = Path(output_path).resolve()
  output.parent.mkdir(parents=True, exist_ok=True)
  runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
      config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(default_image=config.image),
      output_dir=str(output.parent),
      output_filename=output.name)
  runner.run(build(config), write_out=True)
  return str(output)

