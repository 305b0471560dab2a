"""Custom jobs: TFX's own Vertex trainer client drives the local JobService over the wire, and the
replicas run as local processes."""

import json
import sys
import threading

import pytest

from vertex_local.api import LocalVertexAI, launch_locally
from vertex_local.api.jobs import JobRun, State
from vertex_local.api.workers import ReplicaSpec

from tests.vertex_local.api.conftest import PROJECT

# TFX's trainer path, as GenericExecutor takes it with enable_vertex: create_training_job (which
# sets every pool's command to `python -m tfx.scripts.run_executor ...`), then
# runner._launch_cloud_training (create, then get until the job ends, 30 s between gets).
TRAINER_CLIENT = '''
import json, sys, time
from google.cloud.aiplatform import gapic
from tfx.extensions.google_cloud_ai_platform import runner, training_clients

out, project = sys.argv[1], sys.argv[2]
REPORT = ("import json, os, pathlib; t = json.loads(os.environ['TF_CONFIG'])['task']; "
          "pathlib.Path(os.environ['OUT'], f\\"{t['type']}-{t['index']}.json\\").write_text("
          "json.dumps({k: os.environ.get(k) for k in ('TF_CONFIG', 'CLUSTER_SPEC', "
          "'CLOUD_ML_JOB_ID', 'GOOGLE_APPLICATION_CREDENTIALS')}))")
WORKER_FAILS = ("import json, os, sys; t = json.loads(os.environ['TF_CONFIG'])['task']['type']; "
                "print('boom: no shard for', t, file=sys.stderr) if t == 'worker' else None; "
                "sys.exit(3 if t == 'worker' else 0)")

def training_job(command):
  pool = {'replica_count': 1, 'machine_spec': {'machine_type': 'n1-standard-4'},
          'container_spec': {'image_uri': 'gcr.io/acme/trainer',
                             'env': [{'name': 'OUT', 'value': out}]}}
  job = training_clients.VertexJobClient('us-central1').create_training_job(
      {}, {}, {}, 'tfx.components.trainer.executor.GenericExecutor',
      {'job_spec': {'worker_pool_specs': [pool, dict(pool)]}}, None, None)
  for spec in job['job_spec']['worker_pool_specs']:
    spec['container_spec']['command'] = ['python', '-c', command]
  return job

result = {}
start = time.time()
runner._launch_cloud_training(project, training_job(REPORT), enable_vertex=True,
                              vertex_region='us-central1')
result['success_seconds'] = time.time() - start
try:
  runner._launch_cloud_training(project, training_job(WORKER_FAILS), enable_vertex=True,
                                vertex_region='us-central1')
except RuntimeError as error:
  result['failure'] = str(error)

client = gapic.JobServiceClient(
    client_options={'api_endpoint': 'us-central1-aiplatform.googleapis.com'})
job = training_job('import time; time.sleep(120)')
created = client.create_custom_job(parent=f'projects/{project}/locations/us-central1',
                                   custom_job=job)
client.cancel_custom_job(name=created.name)
while client.get_custom_job(name=created.name).state.name == 'JOB_STATE_CANCELLING':
  time.sleep(0.1)
result['cancelled'] = client.get_custom_job(name=created.name).state.name
print('RESULT=' + json.dumps(result))
'''


@pytest.mark.integration  # The client process imports TFX and TensorFlow.
def test_tfx_trainer_client_runs_replicas_with_tf_config(tmp_path, run_client):
  out = tmp_path / 'out'
  out.mkdir()
  with LocalVertexAI(tmp_path / 'state', tmp_path / 'gcs', project=PROJECT) as server:
    result = run_client(server, TRAINER_CLIENT, str(out), PROJECT)
    jobs = list(server.custom_jobs.values())
    tunnels = set(server.tunnels())

  # Success: both replicas ran, each told its own place in one cluster.
  reports = {path.stem: json.loads(path.read_text()) for path in out.glob('*.json')}
  assert sorted(reports) == ['chief-0', 'worker-0']
  configs = {name: json.loads(report['TF_CONFIG']) for name, report in reports.items()}
  cluster = configs['chief-0']['cluster']
  assert configs['worker-0']['cluster'] == cluster
  assert sorted(cluster) == ['chief', 'worker']
  addresses = cluster['chief'] + cluster['worker']
  assert len(set(addresses)) == 2 and all(a.startswith('127.0.0.1:') for a in addresses)
  assert configs['chief-0']['task'] == {'type': 'chief', 'index': 0}
  assert configs['worker-0']['task'] == {'type': 'worker', 'index': 0}
  assert {c['environment'] for c in configs.values()} == {'cloud'}
  spec = json.loads(reports['worker-0']['CLUSTER_SPEC'])
  assert spec['task'] == {'type': 'workerpool1', 'index': 0}
  assert spec['cluster'] == {'workerpool0': cluster['chief'], 'workerpool1': cluster['worker']}
  assert reports['chief-0']['CLOUD_ML_JOB_ID'] == jobs[0].resource_name.rsplit('/', 1)[1]
  assert reports['chief-0']['GOOGLE_APPLICATION_CREDENTIALS']  # replicas can call the API too
  # GetCustomJob held the first read until the job ended: no 30 s sleep in TFX's loop.
  assert result['success_seconds'] < 15

  # Failure: TFX reports the job FAILED with the replica, its exit status and its last words.
  assert 'did not succeed' in result['failure'] and 'JOB_STATE_FAILED' in result['failure']
  assert 'The replica workerpool1-0 exited with a non-zero status of 3' in result['failure']
  assert 'boom: no shard for worker' in result['failure']

  assert result['cancelled'] == 'JOB_STATE_CANCELLED'
  assert [job.state for job in jobs] == ['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED',
                                         'JOB_STATE_CANCELLED']
  assert 'workerpool1-0.log' in jobs[1].error_message
  assert (jobs[1].log_dir / 'workerpool1-0.log').read_text().startswith('boom')
  assert 'us-central1-aiplatform.googleapis.com:443' in tunnels  # TFX's hard-coded host


def _spec(tmp_path, pool_index: int, code: str) -> ReplicaSpec:
  return ReplicaSpec(job_name='projects/p/locations/l/customJobs/1', display_name='j',
                     pool_index=pool_index, replica_index=0,
                     container_spec={'command': [sys.executable, '-c', code]}, machine_spec={},
                     env={}, log_path=tmp_path / f'workerpool{pool_index}-0.log')


def _run(specs) -> tuple:
  ended = []
  run = JobRun(specs, launch_locally, on_running=lambda: None,
               on_end=lambda state, code, message: ended.append((state, message)))
  run.start()
  assert run.done.wait(30)
  return ended[0]


def test_a_job_succeeds_when_training_replicas_end_and_parameter_servers_are_stopped(tmp_path):
  ps_started = tmp_path / 'ps-started'
  state, _ = _run([_spec(tmp_path, 0, 'import time; time.sleep(0.5)'),
                   _spec(tmp_path, 2, f'open({str(ps_started)!r}, "w"); import time; '
                                      'time.sleep(120)')])
  assert state == State.JOB_STATE_SUCCEEDED and ps_started.exists()


def test_a_replica_that_cannot_start_fails_the_job_and_stops_the_others(tmp_path):
  started = threading.Event()

  def launcher(spec):
    if spec.pool_index == 1:
      raise OSError('no such machine type')
    started.set()
    return launch_locally(spec)

  ended = []
  run = JobRun([_spec(tmp_path, 0, 'import time; time.sleep(120)'), _spec(tmp_path, 1, '')],
               launcher, on_running=lambda: None,
               on_end=lambda state, code, message: ended.append((state, message)))
  run.start()
  assert run.done.wait(30) and started.is_set()
  assert ended == [(State.JOB_STATE_FAILED,
                    'The replica workerpool1-0 could not be started: no such machine type')]
