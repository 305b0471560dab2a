"""The registry pusher's calls (components/vertex_pusher.py), made by aiplatform in a client
process against the local Vertex AI: two blessed pushes of one pipeline are one model with two
versions, champion on the newest, which alone serves the endpoint; an unblessed push is the
challenger and serves nothing."""

import pytest

from vertex_local.api import LocalVertexAI

from tests.vertex_local.api.conftest import PROJECT

PUSHES = '''
import json, sys
from google.cloud import aiplatform
from components import vertex_pusher
folder, project, *blessings = sys.argv[1:]
aiplatform.init(project=project, location='us-central1')
container = {'image': 'us-central1-docker.pkg.dev/p/taxi/taxi-pipeline:v1',
             'command': ['python', '-m', 'serving'], 'predict_route': '/predict',
             'health_route': '/health', 'port': 8080}
serving_args = {'project_id': project, 'endpoint_name': 'taxi-endpoint',
                'machine_type': 'n1-standard-2'}
pushed = []
for blessed in blessings:
  model = vertex_pusher.upload(folder, 'chicago-taxi', container, blessed == 'blessed', {})
  if blessed == 'blessed':
    vertex_pusher.deploy_champion(model, serving_args, {})
  pushed.append([model.resource_name, model.version_id])
print('RESULT=' + json.dumps(pushed))
'''


@pytest.mark.integration  # The client process imports TFX.
def test_two_blessed_pushes_are_two_versions_with_the_champion_alone_on_the_endpoint(
    tmp_path, run_client):
  folder = tmp_path / 'model'
  (folder / 'variables').mkdir(parents=True)
  (folder / 'saved_model.pb').write_bytes(b'not loaded until a prediction asks')
  with LocalVertexAI(tmp_path / 'state', tmp_path / 'gcs', project=PROJECT) as server:
    pushed = run_client(server, PUSHES, str(folder), PROJECT, 'blessed', 'blessed',
                        'unblessed')
    assert [version for _, version in pushed] == ['1', '2', '3']
    assert len({name for name, _ in pushed}) == 1  # one model, three versions
    versions = {m.version_id: (m.version_aliases, m.deployed_to)
                for m in server.models.values()}
    [endpoint] = server.endpoints.values()
    assert versions == {'1': ((), ()), '2': (('champion', 'default'), (endpoint.resource_name,)),
                        '3': (('challenger',), ())}
    # The champion takes all the traffic; version 1 lost its aliases and was undeployed.
    [deployment] = endpoint.deployments
    assert deployment.model.partition('@')[0] == pushed[1][0]
    assert deployment.traffic_percentage == 100
    assert len(server.calls('UndeployModel')) == 1
    uploads = server.calls('UploadModel')
    assert [c.request.parent_model for c in uploads] == ['', pushed[0][0], pushed[0][0]]
    assert {tuple(c.request.model.container_spec.command) for c in uploads} == {
        ('python', '-m', 'serving')}
