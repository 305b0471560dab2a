"""LocalVertexAI as a whole: what a child process is told, and how state outlives a server."""

import json
import os
import time

import pytest

from vertex_local.api import LocalVertexAI
from vertex_local.api.registry import CustomJob, Registry

from tests.vertex_local.api.conftest import PROJECT

LONG_JOB_CLIENT = '''
import json, sys
from google.cloud.aiplatform_v1 import JobServiceClient
client = JobServiceClient(client_options={'api_endpoint': 'us-central1-aiplatform.googleapis.com'})
code = f'import os, time; open({sys.argv[1]!r}, "w").write(str(os.getpid())); time.sleep(120)'
job = client.create_custom_job(parent=f'projects/{sys.argv[2]}/locations/us-central1', custom_job={
    'display_name': 'long', 'job_spec': {'worker_pool_specs': [{
        'replica_count': 1, 'machine_spec': {'machine_type': 'n1-standard-4'},
        'container_spec': {'image_uri': 'gcr.io/a/b', 'command': ['python', '-c', code]}}]}})
print('RESULT=' + json.dumps(job.name))
'''


def test_the_client_environment_points_every_client_here(tmp_path):
  with LocalVertexAI(tmp_path / 'state', tmp_path / 'gcs', project=PROJECT) as server:
    env = server.client_environment()
    key = json.loads(open(env['GOOGLE_APPLICATION_CREDENTIALS']).read())
    assert oct(os.stat(env['GOOGLE_APPLICATION_CREDENTIALS']).st_mode & 0o777) == '0o600'
  proxy = env['grpc_proxy']
  assert proxy.startswith('http://127.0.0.1:')
  assert {env[name] for name in ('https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY')} == {
      proxy}
  assert env['no_proxy'] == env['NO_PROXY'] == env['no_grpc_proxy'] == '127.0.0.1,localhost,::1'
  assert env['GRPC_DEFAULT_SSL_ROOTS_FILE_PATH'] == env['REQUESTS_CA_BUNDLE']
  assert env['STORAGE_EMULATOR_HOST'].startswith('http://127.0.0.1:')
  assert env['GOOGLE_CLOUD_PROJECT'] == PROJECT == key['project_id']
  assert key['type'] == 'service_account'
  assert key['token_uri'] == env['STORAGE_EMULATOR_HOST'] + '/token'  # answered locally
  assert env['NO_GCE_CHECK'] == 'true' and env['GOOGLE_API_USE_MTLS_ENDPOINT'] == 'never'
  assert not os.path.exists(env['GOOGLE_APPLICATION_CREDENTIALS'])  # gone with the server


def test_stopping_the_server_ends_running_jobs_and_their_replicas(tmp_path, run_client):
  pid_file = tmp_path / 'replica.pid'
  with LocalVertexAI(tmp_path / 'state', tmp_path / 'gcs', project=PROJECT) as server:
    name = run_client(server, LONG_JOB_CLIENT, str(pid_file), PROJECT)
    assert server.custom_jobs[name].state in ('JOB_STATE_PENDING', 'JOB_STATE_RUNNING')
    for _ in range(100):
      if pid_file.exists() and pid_file.read_text():
        break
      time.sleep(0.1)
  job = LocalVertexAI(tmp_path / 'state', tmp_path / 'gcs').custom_jobs[name]
  assert job.state == 'JOB_STATE_FAILED'
  assert job.error_message == 'The local Vertex AI server stopped while this job ran.'
  with pytest.raises(ProcessLookupError):
    os.kill(int(pid_file.read_text()), 0)


def test_a_job_left_running_by_an_earlier_server_is_failed_at_start(tmp_path):
  registry = Registry(tmp_path / 'state')
  name = 'projects/p/locations/us-central1/customJobs/1001'
  registry.custom_jobs[name] = CustomJob(name=name, display_name='j', state='JOB_STATE_RUNNING')
  registry.save()
  with LocalVertexAI(tmp_path / 'state', tmp_path / 'gcs') as server:
    assert server.custom_jobs[name].state == 'JOB_STATE_FAILED'


def test_one_server_per_state_dir(tmp_path):
  with LocalVertexAI(tmp_path / 'state', tmp_path / 'gcs'):
    with pytest.raises(RuntimeError, match='another local Vertex AI server is using'):
      LocalVertexAI(tmp_path / 'state', tmp_path / 'gcs').start()
  LocalVertexAI(tmp_path / 'state', tmp_path / 'gcs').start().stop()  # free again


def test_an_unreadable_registry_says_what_to_do(tmp_path):
  (tmp_path / 'registry.json').write_text('{"last_id": ')
  with pytest.raises(RuntimeError, match='registry.json is unreadable.*move it away'):
    LocalVertexAI(tmp_path, tmp_path / 'gcs')


def test_addresses_need_a_started_server(tmp_path):
  with pytest.raises(RuntimeError, match=r'not started: call start\(\) first'):
    LocalVertexAI(tmp_path / 'state', tmp_path / 'gcs').client_environment()
