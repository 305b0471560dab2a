"""Endpoints and the Model Registry: TFX's own Vertex pusher client deploys a local model folder
through the local API, and what it created outlives the server."""

import pytest

from vertex_local.api import LocalVertexAI
from vertex_local.api.listing import parse_filter
from vertex_local.api.rpc import RpcError

from tests.vertex_local.api.conftest import PROJECT

ENDPOINT = 'taxi-endpoint'
IMAGE = 'us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest'
# What TFX's Vertex Pusher executor calls, with its arguments' shapes.
PUSHER_CLIENT = f'''
import json, sys
from tfx.extensions.google_cloud_ai_platform.prediction_clients import VertexPredictionClient
serving_path, project, *versions = sys.argv[1:]
deployed = []
for version in versions:
  deployed.append(VertexPredictionClient().deploy_model(
      serving_path=serving_path, model_version_name=version,
      ai_platform_serving_args={{'project': project, 'endpoint_name': {ENDPOINT!r},
                                'machine_type': 'n1-standard-2'}},
      labels={{'tfx_version': '1-16-0'}}, serving_container_image_uri={IMAGE!r},
      endpoint_region='us-central1'))
print('RESULT=' + json.dumps(deployed))
'''


@pytest.fixture
def model_dir(tmp_path):
  folder = tmp_path / 'serving_model' / '1700000000'
  (folder / 'variables').mkdir(parents=True)
  (folder / 'saved_model.pb').write_bytes(b'\x08\x01saved model')
  (folder / 'variables' / 'variables.index').write_text('index')
  return folder


def _files(folder):
  return {path.relative_to(folder).as_posix(): path.read_bytes()
          for path in folder.rglob('*') if path.is_file()}


@pytest.mark.integration  # The client process imports TFX and TensorFlow.
def test_tfx_pusher_deploys_and_a_second_run_finds_its_endpoint(tmp_path, model_dir, run_client):
  state, gcs = tmp_path / 'state', tmp_path / 'gcs'
  with LocalVertexAI(state, gcs, project=PROJECT) as server:
    deployed = run_client(server, PUSHER_CLIENT, str(model_dir), PROJECT, 'v1', 'v2')

    [create] = server.calls('CreateEndpoint')  # the second deploy reused the endpoint
    assert create.request.endpoint.display_name == ENDPOINT
    assert dict(create.request.endpoint.labels) == {'tfx_version': '1-16-0'}
    lists = server.calls('ListEndpoints')
    assert {call.request.filter for call in lists} == {f'display_name="{ENDPOINT}"'}
    uploads = server.calls('UploadModel')
    assert [call.request.model.display_name for call in uploads] == ['v1', 'v2']
    assert {call.request.model.container_spec.image_uri for call in uploads} == {IMAGE}
    machine_types = {call.request.deployed_model.dedicated_resources.machine_spec.machine_type
                     for call in server.calls('DeployModel')}
    assert machine_types == {'n1-standard-2'}
    # The staging bucket existed for v2: aiplatform checked its owner with Resource Manager.
    assert len(server.calls('GetProject')) == 1
    assert 'cloudresourcemanager.googleapis.com:443' in server.tunnels()

    models = server.models
    # TFX's pusher uploads with no parent_model: each push is a new model, at version 1.
    assert sorted(m.resource_name for m in models.values()) == sorted(deployed)
    assert {(m.version_id, m.version_aliases) for m in models.values()} == {('1', ('default',))}
    [endpoint] = server.endpoints.values()
    for model in models.values():
      assert model.artifact_uri.startswith(
          f'gs://{PROJECT}-vertex-staging-us-central1-')  # staged by aiplatform
      assert model.local_path == gcs / model.artifact_uri[len('gs://'):]
      assert _files(model.local_path) == _files(model_dir)
      assert model.serving_image == IMAGE and model.deployed_to == (endpoint.resource_name,)
    assert endpoint.display_name == ENDPOINT
    assert [(d.display_name, d.traffic_percentage) for d in endpoint.deployments] == [
        ('v1', 0), ('v2', 100)]
    assert {d.model.split('@')[0] for d in endpoint.deployments} == set(deployed)
    before = (server.models, server.endpoints)

  with LocalVertexAI(state, gcs, project=PROJECT) as server:
    assert (server.models, server.endpoints) == before  # read back from state_dir
    [deployed_v3] = run_client(server, PUSHER_CLIENT, str(model_dir), PROJECT, 'v3')
    assert server.calls('CreateEndpoint') == []  # the first run's endpoint was found
    [endpoint] = server.endpoints.values()
    assert [(d.display_name, d.traffic_percentage) for d in endpoint.deployments] == [
        ('v1', 0), ('v2', 0), ('v3', 100)]
    assert server.models[f'{deployed_v3}@1'].deployed_to == (endpoint.resource_name,)


@pytest.mark.parametrize('text, terms', [
    ('', []),
    ('display_name="taxi-endpoint"', [('display_name', 'taxi-endpoint')]),
    ('display_name=taxi AND labels.team="ml ops"',
     [('display_name', 'taxi'), ('labels.team', 'ml ops')]),
    (r'display_name="say \"hi\""', [('display_name', 'say "hi"')]),
])
def test_endpoint_filters(text, terms):
  assert parse_filter(text) == terms


def test_an_unsupported_filter_is_refused_with_what_is_supported():
  with pytest.raises(RpcError, match=r"'create_time>1' is not supported.*display_name="):
    parse_filter('create_time>1')
