"""`make compile PROFILE=<name>`: the same create_pipeline() as a KFP v2 spec per profile, offline.

The JSON is parsed into kfp-pipeline-spec protos and checked per profile: every component is a
task, the image, the Beam args, the Trainer's worker pools and accelerators, resource limits,
and that no path of the compiling machine leaks into the spec.
"""

import json
import os
import re
import subprocess
import sys

import pytest
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from components import sharded_executors
from core.example_files import ExampleFilesConfig
from tests.conftest import REPO_ROOT

EXPECTED_TASKS = {'CsvExampleGen', 'StatisticsGen', 'ImportSchemaGen', 'ExampleValidator',
                  'AnomaliesGate', 'Transform', 'LabelGate', 'Trainer', 'Evaluator', 'Pusher'}
IMAGE = 'europe-west4-docker.pkg.dev/acme-project/taxi/pipeline:test'
SERVICE_ACCOUNT = 'pipelines@acme-project.iam.gserviceaccount.com'
PROFILES = {
    'vertex-cpu': [{'machine_spec': {'machine_type': 'n1-standard-8'}, 'replica_count': 1}],
    'vertex-gpu': [{'machine_spec': {'machine_type': 'n1-standard-16', 'accelerator_count': 2,
                                     'accelerator_type': 'NVIDIA_TESLA_T4'},
                    'replica_count': 1}],
    'vertex-tpu': [{'machine_spec': {'machine_type': 'cloud-tpu', 'accelerator_count': 8,
                                     'accelerator_type': 'TPU_V3'}, 'replica_count': 1}],
}

# The image the Trainer's worker pools run: GPU pools the CUDA image, TPU pools the TPU image,
# named after PIPELINE_IMAGE (pipeline/vertex/profiles.py accelerator_image; infra/cloudbuild.yaml).
TRAINER_IMAGES = {'vertex-cpu': IMAGE, 'vertex-gpu': IMAGE.replace('/pipeline:', '/pipeline-gpu:'),
                  'vertex-tpu': IMAGE.replace('/pipeline:', '/pipeline-tpu:')}


def compile_profile(profile, output, **env_overrides):
  env = dict(os.environ, GCP_PROJECT='acme-project', GCS_BUCKET='acme-taxi',
             PIPELINE_IMAGE=IMAGE, PIPELINE_SERVICE_ACCOUNT=SERVICE_ACCOUNT)
  env.update(env_overrides)
  return subprocess.run([sys.executable, '-m', 'pipeline', 'compile', '--profile', profile,
                         '--output', str(output)], cwd=REPO_ROOT, env=env, capture_output=True,
                        text=True, timeout=300, check=False)


# Each param compiles in a subprocess that imports TensorFlow: its mark makes every test of
# the compiled spec an integration test.
@pytest.fixture(scope='module', params=[pytest.param(profile, marks=pytest.mark.integration)
                                        for profile in sorted(PROFILES)])
def compiled(request, tmp_path_factory):
  output = tmp_path_factory.mktemp('compile') / f'{request.param}.json'
  result = compile_profile(request.param, output)
  assert result.returncode == 0, result.stderr[-3000:]
  assert f'compiled {output}' in result.stdout
  job = json.loads(output.read_text())
  spec = pipeline_spec_pb2.PipelineSpec()
  json_format.ParseDict(job['pipelineSpec'], spec, ignore_unknown_fields=True)
  return request.param, job, spec


def _parameter(spec, task, name):
  return json.loads(
      spec.root.dag.tasks[task].inputs.parameters[name].runtime_value.constant_value.string_value)


def test_every_component_is_a_task(compiled):
  _, _, spec = compiled
  tasks = set(spec.root.dag.tasks)
  assert EXPECTED_TASKS <= tasks
  assert any(name.startswith('latest_blessed_model_resolver') for name in tasks)
  assert any(name.startswith('latest_validated_statistics_resolver') for name in tasks)
  assert 'AnomaliesGate' in spec.root.dag.tasks['Transform'].dependent_tasks
  assert 'LabelGate' in spec.root.dag.tasks['Trainer'].dependent_tasks


def test_every_container_uses_the_pipeline_image(compiled):
  _, _, spec = compiled
  deployment = spec.deployment_spec
  executors = deployment['executors']
  images = {e['container']['image'] for e in executors.values() if 'container' in e}
  assert images == {IMAGE}


def test_beam_steps_run_on_dataflow_in_the_pipeline_image(compiled):
  _, _, spec = compiled
  args = list(spec.deployment_spec['executors']['Transform_executor']['container']['args'])
  for expected in ('--runner=DataflowRunner', '--project=acme-project', '--region=us-central1',
                   '--temp_location=gs://acme-taxi/tmp/dataflow',
                   f'--sdk_container_image={IMAGE}', f'--service_account_email={SERVICE_ACCOUNT}'):
    assert expected in args
  assert any(arg.startswith('--max_num_workers=') for arg in args)


def test_trainer_runs_on_the_profiles_worker_pools(compiled):
  profile, _, spec = compiled
  config = _parameter(spec, 'Trainer', 'custom_config')
  assert config['ai_platform_enable_vertex'] is True
  assert config['ai_platform_vertex_region'] == 'us-central1'
  training = config['ai_platform_training_args']
  assert training['project'] == 'acme-project'
  pools = training['job_spec']['worker_pool_specs']
  assert [{k: v for k, v in pool.items() if k != 'container_spec'} for pool in pools] == (
      PROFILES[profile])
  assert {pool['container_spec']['image_uri'] for pool in pools} == {TRAINER_IMAGES[profile]}
  assert training['job_spec']['service_account'] == SERVICE_ACCOUNT
  executor = spec.deployment_spec['executors']['Trainer_executor']['container']['args']
  assert 'tfx.extensions.google_cloud_ai_platform.trainer.executor.GenericExecutor' in executor


def test_per_component_resource_limits(compiled):
  _, _, spec = compiled
  transform = spec.deployment_spec['executors']['Transform_executor']['container']['resources']
  assert transform['cpuLimit'] == 4 and transform['memoryLimit'] == 16


def test_no_local_path_leaks(compiled):
  _, job, _ = compiled
  text = re.sub(r'gs://[^"\s]*', 'gs://…', json.dumps(job))
  for local in (str(REPO_ROOT), os.path.expanduser('~'), '/tmp/', 'site-packages', '/work/'):
    assert local not in text, local
  assert job['runtimeConfig']['gcsOutputDirectory'] == 'gs://acme-taxi/pipeline_root'


def test_components_reference_code_by_module_path(compiled):
  _, _, spec = compiled
  transform = spec.root.dag.tasks['Transform'].inputs.parameters
  trainer = spec.root.dag.tasks['Trainer'].inputs.parameters
  assert 'transform.preprocessing.preprocessing_fn' in str(transform['preprocessing_fn'])
  assert 'trainer.task.run_fn' in str(trainer['run_fn'])
  # module_file would make the compiler read (and for gs:// upload) a file: never used.
  assert 'module_file' not in transform and 'module_file' not in trainer


def _files_config(spec, task):
  text = spec['root']['dag']['tasks'][task]['inputs']['parameters']['custom_config'][
      'runtimeValue']['constantValue']['stringValue']
  if task == 'Transform':
    return sharded_executors.transform_files_config({'custom_config': text})
  return sharded_executors.example_gen_files_config({'custom_config': text})


def test_example_files_default_to_eight_gzip_shards(compiled):
  _, job, _ = compiled
  for task in ('CsvExampleGen', 'Transform'):
    assert _files_config(job['pipelineSpec'], task) == ExampleFilesConfig(8, 'gzip')


def _trainer_images(output):
  job = json.loads(output.read_text())
  config = json.loads(job['pipelineSpec']['root']['dag']['tasks']['Trainer']['inputs'][
      'parameters']['custom_config']['runtimeValue']['constantValue']['stringValue'])
  return [pool['container_spec']['image_uri']
          for pool in config['ai_platform_training_args']['job_spec']['worker_pool_specs']]


@pytest.mark.integration  # Compiles in a subprocess.
def test_accelerator_pool_images_come_from_the_environment(tmp_path):
  output = tmp_path / 'spec.json'
  tpu_image = 'us-docker.pkg.dev/acme-project/taxi/tf-tpu@sha256:' + '0' * 64
  result = compile_profile('vertex-tpu', output, PIPELINE_IMAGE_TPU=tpu_image)
  assert result.returncode == 0, result.stderr[-3000:]
  assert _trainer_images(output) == [tpu_image]


@pytest.mark.integration  # Compiles in a subprocess.
def test_pusher_goes_to_vertex_endpoint_when_configured(tmp_path):
  output = tmp_path / 'spec.json'
  result = compile_profile('vertex-gpu', output, VERTEX_ENDPOINT_NAME='taxi-endpoint')
  assert result.returncode == 0, result.stderr[-3000:]
  spec = json.loads(output.read_text())['pipelineSpec']
  pusher = spec['deploymentSpec']['executors']['Pusher_executor']['container']['args']
  # The Model Registry pusher: versions of one model per pipeline, champion deployed
  # (components/vertex_pusher.py), skipping an unchanged model (components/unchanged_model.py).
  assert 'components.vertex_pusher.Executor' in pusher
  config = json.loads(spec['root']['dag']['tasks']['Pusher']['inputs']['parameters'][
      'custom_config']['runtimeValue']['constantValue']['stringValue'])
  assert config['ai_platform_serving_args']['endpoint_name'] == 'taxi-endpoint'
  assert config['registry_model'] == 'chicago-taxi-vertex-gpu'
  assert config['push_challengers'] is False
  # Served by the pipeline image, as `python -m serving` (pipeline/vertex/serving.py).
  assert config['serving_container'] == {
      'image': IMAGE,
      'command': ['python', '-m', 'serving'], 'predict_route': '/predict',
      'health_route': '/health', 'port': 8080}
  assert config['ai_platform_vertex_container_image_uri'] == config['serving_container']['image']


def test_bad_profile_is_named_before_compiling(tmp_path):
  result = compile_profile('vertex-gpu', tmp_path / 'x.json', GCS_BUCKET='gs://not-a-name')
  assert result.returncode == 2
  assert "profile 'vertex-gpu': bucket must be a bucket name" in result.stderr
  assert not (tmp_path / 'x.json').exists()


@pytest.mark.integration  # Compiles in a subprocess.
def test_bigquery_source_is_compiled_with_the_query_and_the_file_layout(tmp_path):
  query = 'SELECT * FROM `acme-project.taxi.trips` WHERE trip_start_timestamp > 0'
  output = tmp_path / 'spec.json'
  result = compile_profile('vertex-cpu', output, BIGQUERY_QUERY=query, NUM_SHARDS='32',
                           EXAMPLE_COMPRESSION='none')
  assert result.returncode == 0, result.stderr[-3000:]
  job = json.loads(output.read_text())
  spec = job['pipelineSpec']
  tasks = spec['root']['dag']['tasks']
  assert 'BigQueryExampleGen' in tasks and 'CsvExampleGen' not in tasks
  input_config = json.loads(tasks['BigQueryExampleGen']['inputs']['parameters']['input_config'][
      'runtimeValue']['constantValue']['stringValue'])
  assert input_config['splits'][0]['pattern'] == query
  args = spec['deploymentSpec']['executors']['BigQueryExampleGen_executor']['container']['args']
  assert '--project=acme-project' in args and '--runner=DataflowRunner' in args
  assert 'BigQueryExampleGen' in tasks['StatisticsGen']['dependentTasks']
  assert 'components.sharded_executors.ShardedBigQueryExampleGenExecutor' in args
  for task in ('BigQueryExampleGen', 'Transform'):
    assert _files_config(spec, task) == ExampleFilesConfig(32, 'none')


def test_local_profile_uses_the_beam_args_make_run_uses():
  from core.beam_args import LOCAL_BEAM_ARGS  # pylint: disable=import-outside-toplevel
  from pipeline import environment  # pylint: disable=import-outside-toplevel
  from pipeline.vertex import profiles  # pylint: disable=import-outside-toplevel
  from pipeline.vertex import compiler  # pylint: disable=import-outside-toplevel
  local = profiles.load_profile('local', environment.read({}))
  assert compiler.beam_pipeline_args(local) == list(LOCAL_BEAM_ARGS)


def test_local_profile_needs_the_pipeline_home(tmp_path):
  """The `local` profile's spec holds local paths: compiling it without a home is refused."""
  from core.home import PipelineHome  # pylint: disable=import-outside-toplevel
  from pipeline import environment  # pylint: disable=import-outside-toplevel
  from pipeline.vertex import profiles  # pylint: disable=import-outside-toplevel
  local = profiles.load_profile('local', environment.read({}))
  with pytest.raises(profiles.ProfileError, match='the local profile compiles local paths: it '
                     'needs the pipeline home'):
    local.pipeline_root()
  with pytest.raises(profiles.ProfileError, match='needs the pipeline home'):
    local.serving_model_dir()
  home = PipelineHome(tmp_path)
  assert local.pipeline_root(home) == f'{tmp_path}/vertex_local/pipeline_root'
  assert local.serving_model_dir(home) == f'{tmp_path}/serving_model'


def test_compiled_resolvers_are_scoped_to_the_pipeline(compiled):
  profile, job, _ = compiled
  name = 'chicago-taxi' if profile == 'vertex-cpu' else f'chicago-taxi-{profile}'
  queries = [query['filter']
             for executor in job['pipelineSpec']['deploymentSpec']['executors'].values()
             for query in executor.get('resolver', {}).get('outputArtifactQueries', {}).values()]
  scoped = [text for text in queries if 'tfx.Model"' not in text]
  assert len(queries) == 3 and len(scoped) == 2, queries
  for text in scoped:
    assert text.endswith(f' AND metadata.pipeline_scope.string_value="{name}"'), text


@pytest.mark.integration  # Compiles in a subprocess.
def test_local_profile_compiles_local_paths_the_local_engine_runs(tmp_path):
  output = tmp_path / 'local.json'
  home, data = tmp_path / 'home', tmp_path / 'data'
  result = compile_profile('local', output, PIPELINE_HOME=str(home), DATA_ROOT=str(data))
  assert result.returncode == 0, result.stderr[-3000:]
  text = output.read_text()
  assert 'gs://' not in text and 'None' not in text
  job = json.loads(text)
  assert job['runtimeConfig']['gcsOutputDirectory'] == f'{home}/vertex_local/pipeline_root'
  example_gen = job['pipelineSpec']['root']['dag']['tasks']['CsvExampleGen']
  # The data folder is pipeline parameter data_root, its value in runtimeConfig (schema 2.0.0).
  assert example_gen['inputs']['parameters']['input_base'] == {
      'componentInputParameter': 'data_root'}
  assert job['pipelineSpec']['root']['inputDefinitions'] == {
      'parameters': {'data_root': {'type': 'STRING'}}}
  assert job['runtimeConfig']['parameters'] == {'data_root': {'stringValue': str(data)}}
  trainer = job['pipelineSpec']['deploymentSpec']['executors']['Trainer_executor']
  assert 'tfx.components.trainer.executor.GenericExecutor' in trainer['container']['args']
  assert 'ai_platform_training_args' not in text and 'DataflowRunner' not in text


@pytest.mark.integration  # Compiles in a subprocess.
def test_dataset_and_tuner_are_compiled_into_the_spec(tmp_path):
  """DATASET=penguins: the pipeline's name, data folder, schema in the image, the definition in
  Transform's and the Trainer's custom_config, the multiclass eval config and label gate.
  TUNER_TRIALS=2: TFX's Vertex Tuner, its trials on the Trainer's machines, feeding the
  Trainer."""
  from vertex_local import run as engine_run  # pylint: disable=import-outside-toplevel
  from vertex_local import spec as spec_lib  # pylint: disable=import-outside-toplevel
  output = tmp_path / 'spec.json'
  result = compile_profile('vertex-gpu', output, DATASET='penguins', TUNER_TRIALS='2')
  assert result.returncode == 0, result.stderr[-3000:]
  job = json.loads(output.read_text())
  assert job['displayName'] == 'penguins-vertex-gpu'
  spec = pipeline_spec_pb2.PipelineSpec()
  json_format.ParseDict(job['pipelineSpec'], spec, ignore_unknown_fields=True)
  for task in ('Transform', 'Trainer'):
    assert _parameter(spec, task, 'custom_config')['dataset']['name'] == 'penguins'
  assert engine_run.dataset_of_spec(spec_lib.load(output)).label.classes == (
      'Adelie', 'Chinstrap', 'Gentoo')
  text = output.read_text()
  assert 'gs://acme-taxi/data/penguins' in text
  assert '/app/datadefs/penguins/schema.pbtxt' in text
  metrics = _parameter(spec, 'Evaluator', 'eval_config')['metrics_specs'][0]['metrics']
  # The multiclass task's confusion matrix (datadefs/tasks.py) is compiled in too.
  assert [metric['class_name'] for metric in metrics] == [
      'ExampleCount', 'SparseCategoricalAccuracy', 'MultiClassConfusionMatrixPlot']
  label_gate = spec.root.dag.tasks['LabelGate'].inputs.parameters
  assert label_gate['task'].runtime_value.constant_value.string_value == 'multiclass'
  tuner = _parameter(spec, 'Tuner', 'custom_config')
  assert tuner['tuner_trials'] == 2
  assert tuner['ai_platform_tuning_args']['job_spec']['worker_pool_specs'][0]['machine_spec'][
      'accelerator_type'] == 'NVIDIA_TESLA_T4'
  executor = job['pipelineSpec']['deploymentSpec']['executors']['Tuner_executor']
  assert 'google_cloud_ai_platform.tuner.executor' in ' '.join(executor['container']['args'])
  trainer_inputs = spec.root.dag.tasks['Trainer'].inputs.artifacts
  assert trainer_inputs['hyperparameters'].task_output_artifact.producer_task == 'Tuner'
