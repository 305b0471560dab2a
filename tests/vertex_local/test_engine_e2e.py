"""The exact compiled Vertex specs, run on the local engine (`python -m pipeline run --engine
vertex-local`): first run, pipeline scope across two pipelines in one store, the step cache,
the GPU profile's trainer on CPU stand-ins, and a bad input stopped before the Trainer.

One pipeline home and store for every run, as one Vertex ML Metadata store holds every
pipeline of a project. The runs, in order:
  cpu-1  vertex-cpu, first run: trains, blessed, uploaded to the local Model Registry;
  gpu-1  vertex-gpu (another pipeline), first run: must not see cpu-1's statistics or model;
         its Trainer is a CustomJob on 2 logical CPU devices standing in for 2 x T4;
  cpu-2  vertex-cpu again: cached steps; baselines are cpu-1's (not gpu-1's newer ones); the
         unchanged model is neither evaluated nor uploaded again;
  bad    vertex-cpu on data with unseen categories: stops at the gate, before the Trainer.
"""

import json
from pathlib import Path

import pytest

from tests.conftest import read_last_run, read_taxi_rows, run_cli, write_csv

pytestmark = pytest.mark.e2e
ENDPOINT = 'taxi-endpoint'
TRAIN_STEPS = '300'


def _compile(profile, output, home):
  result = run_cli(['compile', '--profile', profile, '--output', str(output)], home,
                   extra_env={'VERTEX_ENDPOINT_NAME': ENDPOINT, 'TRAIN_STEPS': TRAIN_STEPS})
  assert result.returncode == 0, result.stdout + result.stderr[-3000:]
  return output


def _run(spec, home, data_root):
  result = run_cli(['run', '--engine', 'vertex-local', '--spec', str(spec)], home,
                   data_root=data_root, timeout=1200)
  return result, read_last_run(home)


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
  root = tmp_path_factory.mktemp('vertex_local')
  home = root / 'home'
  header, rows = read_taxi_rows()
  data = write_csv(root / 'data' / 'data.csv', header, rows[::6]).parent
  bad_rows = [list(row) for row in rows[:1500]]
  for row in bad_rows[::2]:
    row[header.index('payment_type')] = 'Bitcoin'
  bad_data = write_csv(root / 'bad' / 'data.csv', header, bad_rows).parent
  specs = {profile: _compile(profile, root / f'{profile}.json', home)
           for profile in ('vertex-cpu', 'vertex-gpu')}
  results = {}
  for name, profile, data_root in (('cpu-1', 'vertex-cpu', data), ('gpu-1', 'vertex-gpu', data),
                                   ('cpu-2', 'vertex-cpu', data),
                                   ('bad', 'vertex-cpu', bad_data)):
    results[name] = _run(specs[profile], home, data_root)
    results[name + '-registry'] = _registry(home)
  results.update(home=home, specs=specs)
  return results


def _registry(home: Path):
  """The local Model Registry's persisted state (vertex_local/api)."""
  state = home / 'vertex_local' / 'api' / 'registry.json'
  return json.loads(state.read_text()) if state.exists() else {}


def _resolved(summary, task):
  return [r for r in summary['resolved'] if r['task'] == task]


def _components(summary):
  return {c['name']: c for c in summary['components']}


def test_first_run_trains_blesses_and_uploads_to_the_model_registry(runs):
  result, summary = runs['cpu-1']
  assert result.returncode == 0, result.stdout + result.stderr[-3000:]
  assert summary['status'] == 'succeeded' and summary['engine'] == 'vertex-local'
  assert summary['blessed'] is True
  assert summary['metrics']['binary_accuracy'] >= 0.7
  # Pushed to Vertex AI: the local Model Registry received the upload and the deployment.
  assert summary['pushed_model'].startswith('projects/')
  uploads = summary['model_registry']
  assert len(uploads) == 1, uploads
  assert (Path(uploads[0]['local_path']) / 'saved_model.pb').exists()
  assert 'Trainer' in _components(summary) and not _components(summary)['Trainer']['cached']
  # Each substitution is printed and listed.
  kinds = {s['kind'] for s in summary['substitutions']}
  assert {'gcs', 'data_root', 'source', 'image', 'beam', 'cloud_api'} <= kinds
  for item in summary['substitutions']:
    assert f"substitution {item['kind']}: {item['original']}" in result.stdout
  assert 'mutable tag (latest)' in result.stdout
  # Nothing to compare with yet: no baseline, no statistics of an earlier accepted run.
  assert all(r['artifact'] is None for r in summary['resolved'])


def test_gpu_pipeline_trains_on_two_cpu_stand_ins_and_ignores_the_cpu_pipeline(runs):
  result, summary = runs['gpu-1']
  assert result.returncode == 0, result.stdout + result.stderr[-3000:]
  assert summary['status'] == 'succeeded'
  # Another pipeline's statistics and blessed model are in the store, and newer than nothing:
  # the scoped filters must still resolve nothing for this pipeline's first run.
  assert all(r['artifact'] is None for r in summary['resolved']), summary['resolved']
  assert not any(name.endswith('_diff') for name in summary['metrics'])
  accelerators = [s for s in summary['substitutions'] if s['kind'] == 'accelerator']
  assert accelerators and accelerators[0]['original'] == '2 x NVIDIA_TESLA_T4'
  logs = list((runs['home'] / 'logs' / 'tasks').glob(f"{summary['run_id']}/**/*.log")) + list(
      (runs['home'] / 'vertex_local' / 'api').glob('**/*.log'))
  trainer_log = '\n'.join(p.read_text(errors='replace') for p in logs)
  assert 'Distribution strategy mirrored (mirrored requested): 2 replica(s)' in trainer_log


def test_second_run_is_cached_and_uses_its_own_pipelines_baselines(runs):
  first = runs['cpu-1'][1]
  result, summary = runs['cpu-2']
  assert result.returncode == 0, result.stdout + result.stderr[-3000:]
  components = _components(summary)
  for name in ('CsvExampleGen', 'StatisticsGen', 'Transform', 'Trainer'):
    assert components[name]['cached'], name
  assert 'reused cached results' in result.stdout
  # Drift baseline: the statistics cpu-1's gate validated (not StatisticsGen's, not gpu-1's).
  (statistics,) = _resolved(summary, 'latest_validated_statistics_resolver')
  assert statistics['producer_task'] == 'AnomaliesGate'
  assert statistics['pipeline_run'] == first['run_id']
  # Blessed-model baseline: cpu-1's model, though gpu-1 blessed a newer one.
  (blessing,) = _resolved(summary, 'latest_blessed_model_resolver-model-blessing-resolver')
  (model,) = _resolved(summary, 'latest_blessed_model_resolver-model-resolver')
  assert blessing['pipeline_run'] == model['pipeline_run'] == first['run_id']
  assert model['producer_task'] == 'Trainer'
  # Nothing new for the model: the candidate is that blessed baseline, so it is neither
  # evaluated again nor uploaded or deployed again.
  assert summary['model_unchanged'] is True and summary['pushed_model'] is None
  assert 'model unchanged' in result.stdout
  for key in ('models', 'endpoints'):
    assert runs['cpu-2-registry'][key] == runs['gpu-1-registry'][key], key


def test_bad_input_stops_before_the_trainer_and_uploads_nothing(runs):
  result, summary = runs['bad']
  assert result.returncode == 1, result.stdout + result.stderr[-3000:]
  assert summary['status'] == 'failed' and summary['pushed_model'] is None
  assert 'AnomaliesGate failed' in summary['error']
  assert 'payment_type: ENUM_TYPE_UNEXPECTED_STRING_VALUES' in summary['error']
  ran = [c['name'] for c in summary['components']]
  assert ran[-1] == 'AnomaliesGate' and 'Trainer' not in ran
  assert runs['bad-registry'] == runs['cpu-2-registry']


def test_local_profile_spec_runs_as_compiled(tmp_path):
  """`make compile PROFILE=local` writes local paths (PIPELINE_HOME, DATA_ROOT) that the engine
  runs with no substitution of paths; on data with unseen categories it stops at the gate."""
  header, rows = read_taxi_rows()
  bad_rows = [list(row) for row in rows[:1500]]
  for row in bad_rows[::2]:
    row[header.index('payment_type')] = 'Bitcoin'
  data = write_csv(tmp_path / 'data' / 'data.csv', header, bad_rows).parent
  home = tmp_path / 'home'
  spec = tmp_path / 'local.json'
  compiled = run_cli(['compile', '--profile', 'local', '--output', str(spec)], home,
                     data_root=data, extra_env={'TRAIN_STEPS': TRAIN_STEPS})
  assert compiled.returncode == 0, compiled.stdout + compiled.stderr[-3000:]
  result, summary = _run(spec, home, data)
  assert result.returncode == 1, result.stdout + result.stderr[-3000:]
  kinds = {s['kind'] for s in summary['substitutions']}
  assert not kinds & {'gcs', 'data_root', 'beam'}, summary['substitutions']
  assert 'payment_type: ENUM_TYPE_UNEXPECTED_STRING_VALUES' in summary['error']
  ran = [c['name'] for c in summary['components']]
  assert ran[-1] == 'AnomaliesGate' and 'CsvExampleGen' in ran
  assert list((home / 'vertex_local' / 'pipeline_root').iterdir())  # artifacts went there
