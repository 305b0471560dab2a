"""`make compile`: the same create_pipeline() as a KFP v2 JSON spec, offline."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

EXPECTED_TASKS = {'CsvExampleGen', 'StatisticsGen', 'ImportSchemaGen', 'ExampleValidator',
                  'AnomaliesGate', 'Transform', 'Trainer', 'Evaluator', 'Pusher'}


@pytest.fixture(scope='module')
def spec(tmp_path_factory):
  output = tmp_path_factory.mktemp('compile') / 'pipeline.json'
  env = dict(os.environ, PIPELINE_IMAGE='europe-west4-docker.pkg.dev/p/r/taxi:test',
             GCS_BUCKET='acme-taxi')
  result = subprocess.run([sys.executable, '-m', 'pipeline', 'compile', '--output',
                           str(output)], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  assert f'compiled {output}' in result.stdout
  return json.loads(output.read_text())


def test_every_component_is_a_task(spec):
  tasks = spec['pipelineSpec']['root']['dag']['tasks']
  assert EXPECTED_TASKS <= set(tasks)
  # The resolver compiles into its two resolver tasks.
  assert any(name.startswith('latest_blessed_model_resolver') for name in tasks)


def test_gate_runs_before_transform(spec):
  tasks = spec['pipelineSpec']['root']['dag']['tasks']
  assert 'AnomaliesGate' in tasks['Transform']['dependentTasks']
  assert 'ExampleValidator' in tasks['AnomaliesGate']['dependentTasks']


def test_every_container_uses_the_pipeline_image(spec):
  executors = spec['pipelineSpec']['deploymentSpec']['executors']
  images = {e['container']['image'] for e in executors.values() if 'container' in e}
  assert images == {'europe-west4-docker.pkg.dev/p/r/taxi:test'}


def test_roots_are_in_the_bucket_and_no_local_path_leaks(spec):
  assert spec['runtimeConfig']['gcsOutputDirectory'].startswith('gs://acme-taxi/')
  text = json.dumps(spec)
  for local in (str(REPO_ROOT), os.path.expanduser('~'), '/tmp/', 'site-packages'):
    assert local not in text, local
  assert 'gs://acme-taxi/data/' in text


def test_components_reference_code_by_module_path(spec):
  tasks = spec['pipelineSpec']['root']['dag']['tasks']
  transform = tasks['Transform']['inputs']['parameters']
  trainer = tasks['Trainer']['inputs']['parameters']
  assert 'transform.preprocessing.preprocessing_fn' in json.dumps(transform['preprocessing_fn'])
  assert 'trainer.task.run_fn' in json.dumps(trainer['run_fn'])
  # module_file would make the compiler read (and on gs:// upload) a file: never used.
  assert 'module_file' not in transform and 'module_file' not in trainer
