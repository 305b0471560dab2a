"""The exact compiled Vertex specs, run on the local engine as Vertex would run them, from a
fresh pipeline home (docs/vertex-local.md, "What it shows"):

  cpu-1   vertex-cpu, first run: every step runs; blessed; version 1 of the registry model
          `chicago-taxi` (champion, default), deployed to the endpoint.
  gpu-1   vertex-gpu, another pipeline: every step runs, none from cpu-1's cache (Vertex shares
          the cache within one pipeline name); nothing of cpu-1 resolves as its baseline; its
          Trainer is a CustomJob on 2 logical CPU devices standing in for 2 x T4.
  cpu-2   vertex-cpu again: mostly cached; cpu-1's baselines; the unchanged model not pushed.
  param   the `local` profile's spec with `--param data_root=<bad data>`: the override is read,
          the gate fails, fail slow leaves what depends on it NOT_TRIGGERED.
  job     `python -m pipeline vertex-local serve`, and aiplatform's PipelineJob.submit() of the
          vertex-multiworker spec (2 replicas, MultiWorkerMirroredStrategy, BulkInferrer after
          the Pusher) until PipelineJob.wait() returns SUCCEEDED; then Predict on the endpoint
          for raw rows, and a BatchPredictionJob over a CSV of raw rows, by the same client.
One home and store for every run, as one Vertex project holds every pipeline.
"""

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, cli_env, read_last_run, read_taxi_rows, run_cli, write_csv

pytestmark = pytest.mark.e2e
ENDPOINT = 'taxi-endpoint'
TRAIN_STEPS = '50'
BUCKET = 'example-project-taxi'
# The test's own profiles file: vertex-cpu allowing challengers, vertex-multiworker with the
# BulkInferrer step (a user's PROFILES_FILE may refine a built-in profile under its name).
PROFILES = '''
[vertex-cpu]
base = "vertex-cpu"
challengers = true

[vertex-multiworker]
base = "vertex-multiworker"
bulk_inference = true
'''
CLIENT = '''
import json, sys
from google.cloud import aiplatform
spec, rows_uri, rows = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
aiplatform.init(project='example-project', location='us-central1')
job = aiplatform.PipelineJob(display_name='taxi-multiworker', template_path=spec,
                             pipeline_root='gs://example-project-taxi/pipeline_root')
job.submit()
job.wait()
result = {'state': job.state.name, 'tasks': {t.task_name: t.state.name for t in job.task_details},
          'listed': [j.resource_name for j in aiplatform.PipelineJob.list()]}
[endpoint] = aiplatform.Endpoint.list(filter='display_name="taxi-endpoint"')
answer = endpoint.predict(instances=rows)
result['predict'] = {'predictions': answer.predictions, 'deployed_model_id': answer.deployed_model_id,
                     'model': answer.model_resource_name,
                     'model_version_id': answer.model_version_id}
[model] = aiplatform.Model.list(filter='display_name="chicago-taxi"')
batch = aiplatform.Model(model.resource_name + '@champion').batch_predict(
    job_display_name='taxi-rows', gcs_source=rows_uri, instances_format='csv',
    gcs_destination_prefix='gs://example-project-taxi/batch_predictions',
    machine_type='n1-standard-4', sync=True)
result['batch'] = {'state': batch.state.name, 'output': batch.output_info.gcs_output_directory,
                   'counts': [batch.completion_stats.successful_count,
                              batch.completion_stats.failed_count]}
print('RESULT=' + json.dumps(result))
'''


def _compile(profile, output, home, data_root=None):
  result = run_cli(['compile', '--profile', profile, '--output', str(output)], home,
                   data_root=data_root, extra_env=_env(home))
  assert result.returncode == 0, result.stdout + result.stderr[-3000:]
  return output


def _env(home):
  return {'VERTEX_ENDPOINT_NAME': ENDPOINT, 'TRAIN_STEPS': TRAIN_STEPS,
          'PROFILES_FILE': str(home.parent / 'profiles.toml')}


def _run(spec, home, data_root, *flags):
  started = time.monotonic()
  result = run_cli(['run', '--engine', 'vertex-local', '--spec', str(spec), *flags], home,
                   data_root=data_root, timeout=1200, extra_env=_env(home))
  return result, read_last_run(home), time.monotonic() - started


def _registry(home: Path):
  """The local Model Registry's persisted state (vertex_local/api)."""
  state = home / 'vertex_local' / 'api' / 'registry.json'
  return json.loads(state.read_text()) if state.exists() else {}


def _submit(root, home, data, specs, rows):
  """The `job` step: serve, submit through the SDK, wait, predict, batch-predict."""
  gcs_rows = home / 'vertex_local' / 'gcs' / BUCKET / 'batch' / 'rows.csv'
  header, _ = read_taxi_rows()
  write_csv(gcs_rows, header, rows)
  env = cli_env(home, data_root=data, extra_env=_env(home))
  serve = subprocess.Popen([sys.executable, '-m', 'pipeline', 'vertex-local', 'serve'],
                           cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
  try:
    env_file = home / 'vertex_local' / 'api' / 'client.env'
    for _ in range(600):
      if env_file.exists():
        break
      time.sleep(0.1)
    client_env = dict(os.environ)
    client_env.update(re.findall(r"^export (\w+)='?([^'\n]*)'?$", env_file.read_text(), re.M))
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, '-c', textwrap.dedent(CLIENT), str(specs['vertex-multiworker']),
         f'gs://{BUCKET}/batch/rows.csv',
         json.dumps([dict(zip(header, row)) for row in rows[:3]])],
        env=client_env, capture_output=True, text=True, timeout=1500, check=False)
    seconds = time.monotonic() - started
  finally:
    serve.terminate()
    log, _ = serve.communicate(timeout=120)
  results = [line[len('RESULT='):] for line in done.stdout.splitlines()
             if line.startswith('RESULT=')]
  assert results, f'{done.stdout[-3000:]}\n{done.stderr[-5000:]}\n{log[-5000:]}'
  return {**json.loads(results[-1]), 'serve_log': log, 'summary': read_last_run(home),
          'seconds': seconds, 'gcs_rows': gcs_rows}


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
  root = tmp_path_factory.mktemp('vertex_local')
  home = root / 'home'
  (root / 'profiles.toml').write_text(PROFILES)
  header, rows = read_taxi_rows()
  data = write_csv(root / 'data' / 'data.csv', header, rows[::15]).parent
  bad_rows = [list(row) for row in rows[:600]]
  for row in bad_rows[::2]:
    row[header.index('payment_type')] = 'Bitcoin'
  bad_data = write_csv(root / 'bad' / 'data.csv', header, bad_rows).parent
  specs = {profile: _compile(profile, root / f'{profile}.json', home)
           for profile in ('vertex-cpu', 'vertex-gpu', 'vertex-multiworker')}
  specs['local'] = _compile('local', root / 'local.json', home, data_root=data)
  results = {'home': home, 'specs': specs, 'data': data, 'bad_data': bad_data}
  for name, spec, flags in (('cpu-1', 'vertex-cpu', ()), ('gpu-1', 'vertex-gpu', ()),
                            ('cpu-2', 'vertex-cpu', ()),
                            ('param', 'local', ('--param', f'data_root={bad_data}'))):
    results[name] = _run(specs[spec], home, data, *flags)
    results[name + '-registry'] = _registry(home)
  results['job'] = _submit(root, home, data, specs, rows[1::40])
  results['job-registry'] = _registry(home)
  return results


def _components(summary):
  return {c['name']: c for c in summary['components']}


def _states(summary):
  return {c['name']: c['state'] for c in summary['components']}


def _versions(registry, display_name):
  models = [m for m in registry.get('models', {}).values() if m['display_name'] == display_name]
  return {m['version_id']: sorted(m.get('version_aliases', [])) for m in models}


def _ok(result):
  assert result.returncode == 0, result.stdout + result.stderr[-3000:]


def test_first_run_prints_every_substitution_before_any_task_and_pushes_version_1(runs):
  result, summary, _ = runs['cpu-1']
  _ok(result)
  assert summary['status'] == 'succeeded' and summary['blessed'] is True
  assert set(_states(summary).values()) == {'SUCCEEDED'}
  assert summary['metrics']['binary_accuracy'] >= 0.7
  # Every substitution, the worker pools' image, the serving image and the resource limits
  # included, is printed before the first task's line.
  lines = result.stdout.splitlines()
  first_task = min(i for i, line in enumerate(lines)
                   if re.match(r'  \S+\s+(ran|cached|failed|not run)\s+[\d.]+s$', line))
  kinds = {s['kind'] for s in summary['substitutions']}
  assert {'gcs', 'data_root', 'source', 'image', 'beam', 'cloud_api', 'serving',
          'resources'} <= kinds
  for item in summary['substitutions']:
    line = f"  substitution {item['kind']}: {item['original']} -> {item['local']}"
    assert any(l.startswith(line) for l in lines[:first_task]), line
  # Nothing to compare with yet: no baseline, no statistics of an earlier accepted run.
  assert summary['resolved'] and all(r['artifact'] is None for r in summary['resolved'])
  # Version 1 of the pipeline's registry model, champion and default, serving the endpoint.
  assert _versions(runs['cpu-1-registry'], 'chicago-taxi') == {'1': ['champion', 'default']}
  [version] = [m for m in summary['model_registry'] if m['display_name'] == 'chicago-taxi']
  assert summary['pushed_model'] == version['resource_name']
  assert (Path(version['local_path']) / 'saved_model.pb').exists()
  assert (Path(version['local_path']) / 'assets.extra' / 'dataset.json').exists()
  assert len(version['deployed_to']) == 1


def test_gpu_pipeline_runs_every_step_and_sees_nothing_of_the_cpu_pipeline(runs):
  result, summary, _ = runs['gpu-1']
  _ok(result)
  components = _components(summary)
  # Another pipeline name: nothing from cpu-1's cache, every step ran.
  assert components and not any(c['cached'] for c in components.values())
  assert set(_states(summary).values()) == {'SUCCEEDED'}
  assert 'reused cached results' not in result.stdout
  # Another pipeline's statistics and blessed model are in the store, and newer than nothing:
  # the scoped filters must still resolve nothing for this pipeline's first run.
  assert summary['resolved'] and all(r['artifact'] is None for r in summary['resolved'])
  subs = {(s['kind'], s['original']) for s in summary['substitutions']}
  assert ('accelerator', '2 x NVIDIA_TESLA_T4') in subs
  assert any(kind == 'image' and original.endswith('taxi-pipeline-gpu:latest')
             for kind, original in subs)  # the Trainer pool's own image
  logs = Path(runs['home'], 'vertex_local', 'api', 'custom_jobs').glob('*/*.log')
  assert any('Distribution strategy mirrored (mirrored requested): 2 replica(s)' in
             p.read_text(errors='replace') for p in logs)
  assert _versions(runs['gpu-1-registry'], 'chicago-taxi-vertex-gpu') == {
      '1': ['champion', 'default']}


def test_second_run_is_mostly_cached_and_uses_its_own_pipelines_baselines(runs):
  first = runs['cpu-1'][1]
  result, summary, _ = runs['cpu-2']
  _ok(result)
  states = _states(summary)
  for name in ('CsvExampleGen', 'StatisticsGen', 'Transform', 'Trainer'):
    assert states[name] == 'SKIPPED' and _components(summary)[name]['cached'], name
  (statistics,) = [r for r in summary['resolved']
                   if r['task'] == 'latest_validated_statistics_resolver']
  assert statistics['producer_task'] == 'AnomaliesGate'
  assert statistics['pipeline_run'] == first['run_id']
  blessing, model = [[r for r in summary['resolved'] if r['task'] == task][0] for task in (
      'latest_blessed_model_resolver-model-blessing-resolver',
      'latest_blessed_model_resolver-model-resolver')]
  assert blessing['pipeline_run'] == model['pipeline_run'] == first['run_id']
  assert summary['model_unchanged'] is True and summary['pushed_model'] is None
  for key in ('models', 'endpoints'):
    assert runs['cpu-2-registry'][key] == runs['gpu-1-registry'][key], key


def test_a_parameter_override_is_read_and_a_failure_leaves_its_dependents_not_triggered(runs):
  result, summary, _ = runs['param']
  assert result.returncode == 1, result.stdout + result.stderr[-3000:]
  assert summary['parameters'] == {'data_root': str(runs['bad_data'])}
  assert summary['data_root'] == str(runs['bad_data'])
  assert 'payment_type: ENUM_TYPE_UNEXPECTED_STRING_VALUES' in summary['error']
  states = _states(summary)
  assert states['AnomaliesGate'] == 'FAILED'
  for name in ('Transform', 'LabelGate', 'Trainer', 'Evaluator', 'Pusher'):
    assert states[name] == 'NOT_TRIGGERED', name
  assert states['CsvExampleGen'] == 'SUCCEEDED'
  # The local profile's spec runs with its own paths: nothing to substitute for them.
  kinds = {s['kind'] for s in summary['substitutions']}
  assert not kinds & {'gcs', 'data_root', 'beam'}, summary['substitutions']
  assert runs['param-registry'] == runs['cpu-2-registry']  # nothing pushed


def test_a_submitted_job_runs_two_workers_together_and_the_sdk_sees_it_succeed(runs):
  job = runs['job']
  assert job['state'] == 'PIPELINE_STATE_SUCCEEDED', job['serve_log'][-3000:]
  assert job['tasks']['Trainer'] == 'SUCCEEDED' and job['tasks']['BulkInferrer'] == 'SUCCEEDED'
  assert len(job['listed']) == 1
  summary = job['summary']
  assert summary['pipeline'] == 'chicago-taxi-vertex-multiworker'
  assert summary['status'] == 'succeeded'
  # Two processes, chief and worker, one cluster: each log says so, and each trained.
  [job_dir] = [d for d in Path(runs['home'], 'vertex_local', 'api', 'custom_jobs').iterdir()
               if any('multi_worker' in p.read_text(errors='replace') for p in d.glob('*.log'))]
  chief, worker = [(job_dir / f'workerpool{i}-0.log').read_text(errors='replace')
                   for i in (0, 1)]
  assert 'Distribution strategy multi_worker (multi_worker requested): 2 replica(s), task ' \
      'chief:0, chief=True' in chief
  assert 'Distribution strategy multi_worker (multi_worker requested): 2 replica(s), task ' \
      'worker:0, chief=False' in worker
  for log in (chief, worker):  # one cluster of two, whose gradients are all-reduced together
    assert "MultiWorkerMirroredStrategy with cluster_spec = {'chief': [" in log
    assert 'num_workers = 2' in log
    assert re.search(r'Collective all_reduce tensors: \d+ all_reduces, num_devices = 1, '
                     r'group_size = 2', log)
  # As accurate as one worker on the same data and steps (cpu-1).
  one_worker = runs['cpu-1'][1]['metrics']['binary_accuracy']
  assert abs(summary['metrics']['binary_accuracy'] - one_worker) <= 0.05


def test_predict_answers_raw_rows_and_a_batch_job_predicts_every_row(runs):
  job = runs['job']
  predict = job['predict']
  assert len(predict['predictions']) == 3
  assert all(len(p) == 1 and 0.0 <= p[0] <= 1.0 for p in predict['predictions'])
  # The answer comes from the deployed model with the endpoint's traffic: the champion of the
  # last pipeline that pushed to it (two pipelines share the endpoint here).
  registry = runs['job-registry']
  [endpoint] = registry['endpoints'].values()
  assert endpoint['traffic_split'] == {predict['deployed_model_id']: 100}
  served = registry['models'][f"{predict['model']}@{predict['model_version_id']}"]
  assert 'champion' in served['version_aliases']
  batch = job['batch']
  assert batch['state'] == 'JOB_STATE_SUCCEEDED'
  rows = len(job['gcs_rows'].read_text().splitlines()) - 1
  assert batch['counts'] == [rows, 0]
  output = Path(runs['home'], 'vertex_local', 'gcs', batch['output'][len('gs://'):])
  lines = (output / 'prediction.results-00000-of-00001').read_text().splitlines()
  assert len(lines) == rows
  assert all(0.0 <= json.loads(line)['prediction'][0] <= 1.0 for line in lines)
  assert (output / 'prediction.errors_stats-00000-of-00001').read_text() == ''
