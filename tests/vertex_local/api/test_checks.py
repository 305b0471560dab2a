"""The local Vertex AI checks requests as Vertex AI does: only the credentials it issued, only
regions, machine types and accelerator combinations Vertex has (real GAPIC clients, in-process,
against the session's server)."""

import json
import urllib.error
import urllib.request

import pytest
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.cloud.aiplatform_v1 import JobServiceClient
from google.oauth2 import service_account

from vertex_local.api import auth, tls

PARENT = 'projects/acme-project/locations/us-central1'


def _client(server, credentials=None):
  return JobServiceClient(credentials=credentials or server.credentials(),
                          client_options={'api_endpoint': server.endpoint})


def _job(machine='n1-standard-4', kind=None, count=0, command=('python', '-c', 'pass')):
  spec = {'machine_type': machine}
  if kind:
    spec.update(accelerator_type=kind, accelerator_count=count)
  return {'display_name': 'j', 'job_spec': {'worker_pool_specs': [{
      'replica_count': 1, 'machine_spec': spec,
      'container_spec': {'image_uri': 'gcr.io/a/b', 'command': list(command)}}]}}


def test_calls_without_the_issued_credentials_are_refused(vertex, tmp_path):
  with pytest.raises(exceptions.Unauthenticated) as missing:
    _client(vertex, AnonymousCredentials()).get_custom_job(name=f'{PARENT}/customJobs/1')
  assert missing.value.message == auth.MISSING
  # A well-formed service-account key, but not the one the server issued.
  foreign = tmp_path / 'foreign.json'
  tls.write_service_account_key(foreign, 'acme-project', 'http://127.0.0.1:1/token')
  stranger = service_account.Credentials.from_service_account_file(
      str(foreign), scopes=['https://www.googleapis.com/auth/cloud-platform'])
  with pytest.raises(exceptions.Unauthenticated) as invalid:
    _client(vertex, stranger).get_custom_job(name=f'{PARENT}/customJobs/1')
  assert invalid.value.message.startswith(auth.INVALID)
  assert vertex.custom_jobs == {} or all(
      not name.endswith('/1') for name in vertex.custom_jobs)
  # The token endpoint only trades an assertion signed by the issued key.
  request = urllib.request.Request(f'{vertex.storage_emulator_host}/token', method='POST',
                                   data=b'grant_type=x&assertion=not-a-jwt')
  with pytest.raises(urllib.error.HTTPError) as refused:
    urllib.request.urlopen(request, timeout=10)
  assert refused.value.code == 400
  assert json.loads(refused.value.read())['error'] == 'invalid_grant'
  # The issued key works.
  with pytest.raises(exceptions.NotFound):
    _client(vertex).get_custom_job(name=f'{PARENT}/customJobs/1')


@pytest.mark.parametrize('parent, job, message', [
    ('projects/p/locations/mars', _job(),
     "Unsupported region for Vertex AI, select from ['africa-south1'"),
    (PARENT, _job('not-a-machine', 'NVIDIA_TESLA_T4', 7),
     'List of found errors:\t1.Field: job_spec.worker_pool_specs[0].machine_spec.machine_type; '
     'Message: Machine type "not-a-machine" is not supported.'),
    (PARENT, _job('n1-standard-8', 'NVIDIA_TESLA_T4', 7),
     'List of found errors:\t1.Field: job_spec.worker_pool_specs[0].machine_spec.'
     'accelerator_count; Message: 7 x NVIDIA_TESLA_T4 is not supported for machine type '
     '"n1-standard-8"; it takes 1, 2, 4'),
    (PARENT, _job('a2-highgpu-1g', 'NVIDIA_TESLA_T4', 1),
     'Message: Accelerator "NVIDIA_TESLA_T4" is not supported for machine type "a2-highgpu-1g"'),
    (PARENT, _job('n1-standard-8', 'NVIDIA_B200', 8),
     'Message: Accelerator "NVIDIA_B200" is not supported for machine type "n1-standard-8"'),
    (PARENT, _job('cloud-tpu', 'TPU_V3', 4),
     '4 x TPU_V3 is not supported for machine type "cloud-tpu"; it takes 8'),
])
def test_custom_jobs_vertex_would_refuse_are_refused_with_its_message(vertex, parent, job,
                                                                      message):
  vertex.reset()
  with pytest.raises(exceptions.InvalidArgument) as refused:
    _client(vertex).create_custom_job(parent=parent, custom_job=job)
  assert message in refused.value.message
  assert vertex.custom_jobs == {} or not any(
      job_name.startswith(parent) and vertex.custom_jobs[job_name].state == 'JOB_STATE_PENDING'
      for job_name in vertex.custom_jobs)
