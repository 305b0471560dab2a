"""`make compile PROFILE=vertex-cpu|vertex-gpu DATASET=digits`: the image pipeline as a KFP v2
spec. The ImageExampleGen reads the pipeline parameter data_root (the images on Cloud Storage),
carries the classes and limits of the definition, and the Trainer runs on the profile's pools;
no path of this machine leaks into the spec. A manifest dataset compiles with its manifest as
the ExampleGen's input pattern."""

import json
import os
import re

import pytest

from components import sharded_executors
from components.image_example_gen import config as image_config
from core.example_files import ExampleFilesConfig
from datadefs.images import init as image_init
from datadefs.images.digits import CLASSES
from tests import image_folders
from tests.conftest import REPO_ROOT
from tests.pipeline.vertex.test_compile import IMAGE, PROFILES, TRAINER_IMAGES, compile_profile

IMAGE_TASKS = {'ImageExampleGen', 'StatisticsGen', 'ImportSchemaGen', 'ExampleValidator',
               'AnomaliesGate', 'Transform', 'LabelGate', 'Trainer', 'Evaluator', 'Pusher'}


def _parameter(job, task, name):
  value = job['pipelineSpec']['root']['dag']['tasks'][task]['inputs']['parameters'][name]
  return value['runtimeValue']['constantValue']['stringValue']


@pytest.fixture(scope='module', params=[pytest.param(profile, marks=pytest.mark.integration)
                                        for profile in ('vertex-cpu', 'vertex-gpu')])
def compiled_digits(request, tmp_path_factory):
  output = tmp_path_factory.mktemp('compile') / f'digits-{request.param}.json'
  result = compile_profile(request.param, output, DATASET='digits')
  assert result.returncode == 0, result.stderr[-3000:]
  return request.param, json.loads(output.read_text())


def test_the_image_pipeline_reads_its_images_from_the_data_root_parameter(compiled_digits):
  profile, job = compiled_digits
  assert job['displayName'] == ('digits' if profile == 'vertex-cpu' else f'digits-{profile}')
  tasks = job['pipelineSpec']['root']['dag']['tasks']
  assert IMAGE_TASKS <= set(tasks)
  assert 'CsvExampleGen' not in tasks
  example_gen = tasks['ImageExampleGen']
  assert example_gen['inputs']['parameters']['input_base'] == {
      'componentInputParameter': 'data_root'}
  # The images Vertex reads: uploaded to gs://<bucket>/data/digits (docs/vertex.md).
  assert job['runtimeConfig']['parameters'] == {
      'data_root': {'stringValue': 'gs://acme-taxi/data/digits'}}
  custom = {'custom_config': _parameter(job, 'ImageExampleGen', 'custom_config')}
  folder = image_config.folder_config(custom)
  assert folder.classes == CLASSES and folder.manifest == ''
  assert sharded_executors.example_gen_files_config(custom) == ExampleFilesConfig(8, 'gzip')
  assert json.loads(_parameter(job, 'ImageExampleGen', 'input_config'))['splits'][0][
      'pattern'] == '*/*'
  executors = job['pipelineSpec']['deploymentSpec']['executors']
  assert 'components.image_example_gen.executor.ImageExampleGenExecutor' in ' '.join(
      executors['ImageExampleGen_executor']['container']['args'])


def test_the_image_trainer_runs_on_the_profiles_pools_in_the_pipeline_image(compiled_digits):
  profile, job = compiled_digits
  executors = job['pipelineSpec']['deploymentSpec']['executors']
  assert {e['container']['image'] for e in executors.values() if 'container' in e} == {IMAGE}
  trainer = json.loads(_parameter(job, 'Trainer', 'custom_config'))
  assert trainer['dataset']['name'] == 'digits' and trainer['dataset']['kind'] == 'image'
  pools = trainer['ai_platform_training_args']['job_spec']['worker_pool_specs']
  assert [{k: v for k, v in pool.items() if k != 'container_spec'} for pool in pools] == (
      PROFILES[profile])
  assert {pool['container_spec']['image_uri'] for pool in pools} == {TRAINER_IMAGES[profile]}
  assert '/app/datadefs/digits/schema.pbtxt' in json.dumps(job)


def test_no_local_path_leaks_into_the_image_spec(compiled_digits):
  _, job = compiled_digits
  text = re.sub(r'gs://[^"\s]*', 'gs://…', json.dumps(job))
  for local in (str(REPO_ROOT), os.path.expanduser('~'), '/tmp/', 'site-packages', '/work/'):
    assert local not in text, local


@pytest.mark.integration  # Compiles in a subprocess.
def test_a_manifest_dataset_compiles_with_its_manifest_as_the_input(tmp_path):
  folders = image_folders.write_folder(tmp_path / 'data', {'a': 6, 'b': 6})
  (tmp_path / 'data' / 'rows.csv').write_text(''.join(
      f'training,{path},{label}\n' for label, folder in folders.items()
      for path in sorted(folder.iterdir())))
  image_init.init_manifest(str(tmp_path / 'data' / 'rows.csv'), str(tmp_path / 'ab'),
                           say=lambda _: None)
  output = tmp_path / 'spec.json'
  result = compile_profile('vertex-cpu', output, DATASET=str(tmp_path / 'ab'))
  assert result.returncode == 0, result.stderr[-3000:]
  job = json.loads(output.read_text())
  folder = image_config.folder_config(
      {'custom_config': _parameter(job, 'ImageExampleGen', 'custom_config')})
  assert folder.manifest == 'rows.csv' and folder.classes == ('a', 'b')
  assert json.loads(_parameter(job, 'ImageExampleGen', 'input_config'))['splits'][0][
      'pattern'] == 'rows.csv'
