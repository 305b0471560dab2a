"""Compiles the same `create_pipeline()` into a KFP v2 pipeline spec for Vertex AI Pipelines,
shaped by a deployment profile (pipeline/vertex/profiles.py).

Offline: compiling writes JSON and touches no cloud service. `make compile PROFILE=<name>`
reaches it through the CLI; `tfx pipeline create --engine=vertex` through ../kubeflow_v2_runner.py.
"""

import dataclasses
import json
from pathlib import Path
from typing import List, Optional

from kfp.pipeline_spec import pipeline_spec_pb2
from tfx import v1 as tfx

from core.beam_args import LOCAL_BEAM_ARGS
from core.home import PipelineHome
from datadefs.definition import Dataset
from pipeline import graph
from pipeline.settings import PipelineSettings, RunSettings, VertexTargets
from pipeline.vertex import scoped_resolvers
from pipeline.vertex import serving as serving_lib
from pipeline.vertex.profiles import Profile

ResourceSpec = pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec.ResourceSpec

# Where the pipeline image keeps this project's source (see infra/Dockerfile): components read
# the curated schema from there, so no path of the compiling machine reaches the spec.
IMAGE_SOURCE_DIR = '/app'
_REPO_ROOT = Path(__file__).resolve().parents[2]
# The pipeline parameter holding the ExampleGen's data folder: `submit --param data_root=...`
# (and `run --engine vertex-local --param ...`) reads another folder with the same spec.
DATA_ROOT_PARAMETER = 'data_root'


def beam_pipeline_args(profile: Profile) -> List[str]:
  """Dataflow on Vertex (the job runs in the pipeline image); locally the DirectRunner
  arguments `make run` uses."""
  if not profile.on_vertex:
    return list(LOCAL_BEAM_ARGS)
  args = [
      '--runner=DataflowRunner',
      f'--project={profile.project}',
      f'--region={profile.region}',
      f'--temp_location=gs://{profile.bucket}/tmp/dataflow',
      f'--sdk_container_image={profile.pipeline_image}',
      f'--machine_type={profile.dataflow_machine_type}',
      f'--max_num_workers={profile.dataflow_max_workers}',
      '--experiments=use_runner_v2',
  ]
  if profile.service_account:
    args.append(f'--service_account_email={profile.service_account}')
  if profile.network:
    args.append(f'--network={profile.network}')
  if profile.cmek_key:
    args.append(f'--dataflow_kms_key={profile.cmek_key}')
  if profile.labels:
    args += [f'--labels={key}={value}' for key, value in sorted(profile.labels.items())]
  return args


def vertex_training_args(profile: Profile) -> dict:
  """The Trainer's Vertex AI CustomJob: the profile's worker pools, each running the pipeline
  image built for its accelerator (GPU pools the CUDA image, TPU pools the TPU image)."""
  pools = [pool.to_spec(profile.pool_image(pool)) for pool in profile.trainer_pools]
  job_spec = {'worker_pool_specs': pools}
  if profile.training_service_account or profile.service_account:
    job_spec['service_account'] = profile.training_service_account or profile.service_account
  if profile.network:
    job_spec['network'] = profile.network
  args = {'project': profile.project, 'job_spec': job_spec, 'labels': dict(profile.labels)}
  if profile.cmek_key:
    args['encryption_spec'] = {'kms_key_name': profile.cmek_key}
  return args


def build(profile: Profile, run: RunSettings,
          home: Optional[PipelineHome] = None) -> tfx.dsl.Pipeline:
  """The graph of `run` for the profile; `home`: where the `local` profile's paths point."""
  vertex = None
  if profile.on_vertex:  # The `local` profile trains and pushes in its own task, as `make run`.
    serving = None
    if profile.endpoint_name:
      serving = {'container': serving_lib.serving_container(profile, run.dataset).to_config(),
                 'args': {'project_id': profile.project, 'endpoint_name': profile.endpoint_name,
                          'machine_type': profile.serving_machine_type},
                 'model_name': profile.pipeline_name(run.dataset),
                 'challengers': profile.challengers}
    vertex = VertexTargets(region=profile.region, training_args=vertex_training_args(profile),
                           serving=serving)
  # On Vertex the TPU is local to the trainer's machine (a TPU VM).
  train_config = dataclasses.replace(
      run.training.train_config, strategy=profile.strategy,
      tpu_name='local' if profile.strategy == 'tpu' else '')
  run = dataclasses.replace(run, training=dataclasses.replace(run.training,
                                                              train_config=train_config))
  return graph.create_pipeline(PipelineSettings(
      run=run,
      pipeline_name=profile.pipeline_name(run.dataset),
      pipeline_root=profile.pipeline_root(home),
      serving_model_dir=profile.serving_model_dir(home),
      schema_path=schema_path(profile, run.dataset),
      data_root=profile.data_root(run),
      data_root_parameter=DATA_ROOT_PARAMETER,
      # Locally the dataset's own data may be read by its own pattern; on Vertex the bucket's
      # data folder holds what the user uploaded: the pattern they set, or every file.
      input_pattern=run.data.input_pattern if profile.on_vertex else run.data.files_pattern,
      beam_pipeline_args=tuple(beam_pipeline_args(profile)),
      bulk_inference=profile.bulk_inference,
      vertex=vertex,
      resources={name: ResourceSpec(cpu_limit=r.cpu, memory_limit=r.memory_gib)
                 for name, r in profile.resources.items()}))


def schema_path(profile: Profile, dataset: Dataset) -> str:
  """The curated schema the components read: the image's copy of a bundled dataset's on
  Vertex (the image holds the checkout at IMAGE_SOURCE_DIR), the file itself here. A dataset
  outside the checkout has no copy in the image: its schema is read from the bucket, where
  `submit` uploads it (datasets/<name>/schema.pbtxt)."""
  if not profile.on_vertex:
    return dataset.schema_path
  path = Path(dataset.schema_path).resolve()
  try:
    return f'{IMAGE_SOURCE_DIR}/{path.relative_to(_REPO_ROOT).as_posix()}'
  except ValueError:
    return f'gs://{profile.bucket}/datasets/{dataset.name}/schema.pbtxt'


def compile_spec(profile: Profile, run: RunSettings, output_path: str,
                 home: Optional[PipelineHome] = None) -> str:
  """Writes the KFP v2 JSON spec of `run` for the profile to `output_path`; returns that path."""
  output = Path(output_path).resolve()
  output.parent.mkdir(parents=True, exist_ok=True)
  runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
      config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(
          default_image=profile.pipeline_image),
      output_dir=str(output.parent),
      output_filename=output.name)
  # Compiled without writing, so the resolver queries are scoped before anything is written.
  # The data folder's pipeline parameter gets its value in runtimeConfig (TFX writes no
  # defaultValue for a RuntimeParameter).
  data_root = profile.data_root(run)
  job = runner.run(build(profile, run, home), write_out=False,
                   parameter_values={DATA_ROOT_PARAMETER: data_root} if data_root else None)
  scoped_resolvers.scope_resolver_queries(job, profile.pipeline_name(run.dataset))
  # `tfx pipeline create` patches run() to redirect the runner's output folder and file name
  # (tfx/tools/cli/handler/kubeflow_v2_dag_runner_patcher.py), so write where the runner says.
  output = Path(runner._output_dir) / runner._output_filename  # pylint: disable=protected-access
  output.parent.mkdir(parents=True, exist_ok=True)
  output.write_text(json.dumps(job, sort_keys=True))
  return str(output)
