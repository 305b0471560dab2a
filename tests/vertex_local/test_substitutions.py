"""Substitutions: each mapping applied and recorded once; the spec's values are never changed."""

from pathlib import Path

import pytest

from core.beam_args import LOCAL_BEAM_ARGS
from vertex_local import caching
from vertex_local.store import ArtifactStore, CachedExecution, StoredArtifact
from vertex_local.substitutions import Substitutions, dockerfile_env, split_beam_args

REPO_ROOT = Path(__file__).resolve().parents[2]


def _substitutions(tmp_path):
  return Substitutions(tmp_path / 'gcs', Path('/site/pkgs'),
                       ('gs://b/data/taxi', '/data/csv'), '/venv/bin/python')


def test_paths_inside_values_are_mapped_and_recorded(tmp_path):
  subs = _substitutions(tmp_path)
  text = '{"root": "gs://b/pipeline_root/x", "schema": "/app/pipeline/schema/s.pbtxt"}'
  assert subs.text(text) == (f'{{"root": "{tmp_path}/gcs/b/pipeline_root/x", '
                             '"schema": "/site/pkgs/pipeline/schema/s.pbtxt"}')
  assert subs.text('gs://b/data/taxi') == '/data/csv'
  assert subs.text('/application/x') == '/application/x'  # only the /app folder itself
  kinds = sorted((s['kind'], s['original']) for s in subs.listing())
  assert kinds == [('data_root', 'gs://b/data/taxi'), ('gcs', 'gs://b'), ('source', '/app')]


def test_dataflow_args_become_the_local_runner_args(tmp_path):
  subs = _substitutions(tmp_path)
  argv = subs.command('img:latest', ['python', '-m', 'x'], [
      '--executor_class_path', 'a.B', '--json_serialized_invocation_args', '{"u": "gs://b/x"}',
      '--runner=DataflowRunner', '--project=p', '--temp_location=gs://b/tmp'])
  assert argv == ['/venv/bin/python', '-m', 'x', '--executor_class_path', 'a.B',
                  '--json_serialized_invocation_args', '{"u": "gs://b/x"}',
                  *LOCAL_BEAM_ARGS]
  assert {s['kind'] for s in subs.listing()} == {'image', 'beam'}


@pytest.mark.parametrize('runner', [['--runner', 'DataflowRunner'], ['--runner=dataflow'],
                                    ['--runner=apache_beam.runners.dataflow.DataflowRunner']])
def test_dataflow_in_any_spelling_runs_on_the_local_direct_runner(tmp_path, runner):
  subs = _substitutions(tmp_path)
  argv = subs.command('img:latest', ['python', '-m', 'x'], [*runner, '--project=p'])
  assert argv == ['/venv/bin/python', '-m', 'x', *LOCAL_BEAM_ARGS]


def test_beam_args_without_dataflow_are_kept(tmp_path):
  argv = _substitutions(tmp_path).command('img:latest', ['python', '-m', 'x'],
                                          ['--runner=DirectRunner', '--direct_num_workers=1'])
  assert argv[3:] == ['--runner=DirectRunner', '--direct_num_workers=1']


def test_accelerators_get_cpu_stand_ins(tmp_path):
  subs = _substitutions(tmp_path)
  assert subs.accelerator_env({'accelerator_type': 'NVIDIA_TESLA_T4',
                               'accelerator_count': 2}) == {'LOCAL_ENGINE_GPU_STAND_INS': '2'}
  assert subs.accelerator_env({'acceleratorType': 'TPU_V3', 'acceleratorCount': 8}) == {
      'LOCAL_ENGINE_TPU_STAND_IN': '1'}
  assert subs.accelerator_env({'machine_type': 'n1-standard-8'}) == {}


def test_split_beam_args_keeps_the_executor_flags():
  own, beam = split_beam_args(['--runner=X', '--executor_class_path', 'c', '--y=1'])
  assert own == ['--executor_class_path', 'c'] and beam == ['--runner=X', '--y=1']


def test_dockerfile_env_is_the_runtime_stage():
  env = dockerfile_env(REPO_ROOT / 'infra' / 'Dockerfile')
  assert env['TF_USE_LEGACY_KERAS'] == '1'
  assert 'PIP_NO_CACHE_DIR' in env


def test_cache_key_covers_pipeline_image_env_parameters_and_inputs():
  component = {'inputDefinitions': {}, 'outputDefinitions': {}}
  container = {'image': 'img:1', 'command': ['python'], 'args': ['a']}
  inputs = {'examples': [StoredArtifact('n/1', 'tfx.Examples', '/u', {})]}
  key = caching.cache_key('taxi', component, container, {'p': 1}, inputs)
  assert key == caching.cache_key('taxi', component, dict(container), {'p': 1}, dict(inputs))
  assert key != caching.cache_key('taxi-gpu', component, container, {'p': 1}, inputs)
  assert key != caching.cache_key('taxi', component, dict(container, image='img:2'), {'p': 1},
                                  inputs)
  assert key != caching.cache_key('taxi', component, dict(container, env=[
      {'name': 'MODE', 'value': 'fast'}]), {'p': 1}, inputs)
  assert key != caching.cache_key('taxi', component, container, {'p': 2}, inputs)
  assert key != caching.cache_key('taxi', component, container, {'p': 1}, {
      'examples': [StoredArtifact('n/2', 'tfx.Examples', '/u', {})]})


def test_a_cached_execution_is_found_only_for_its_own_pipeline(tmp_path):
  store = ArtifactStore(tmp_path / 'store.json')
  output = store.add(StoredArtifact(store.new_artifact_name(), 'tfx.Examples', '/u', {}))
  store.record_execution(CachedExecution('key-1', 'CsvExampleGen', 'run-1',
                                         {'examples': [output.name]}, pipeline='taxi'))
  store.save()
  reloaded = ArtifactStore(tmp_path / 'store.json')
  assert reloaded.cached('key-1', 'taxi').outputs == {'examples': [output.name]}
  assert reloaded.cached('key-1', 'taxi-vertex-gpu') is None
  reloaded.artifacts[output.name].state = 'DELETED'
  assert reloaded.cached('key-1', 'taxi') is None  # an output is gone: run again


def test_mutable_image_tags_are_warned_about():
  assert 'mutable tag (latest)' in caching.mutable_image_warning('r/taxi:latest')
  assert 'mutable tag (no tag)' in caching.mutable_image_warning('r.io/p/taxi')
  assert caching.mutable_image_warning('r.io/p/taxi:v1') is None
  assert caching.mutable_image_warning('r.io:5000/taxi@sha256:' + 'a' * 64) is None
