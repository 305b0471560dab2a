"""The Model Registry's versions and aliases, through aiplatform's GAPIC ModelServiceClient."""

import pytest
from google.api_core import exceptions
from google.cloud.aiplatform_v1 import ModelServiceClient

PARENT = 'projects/acme-project/locations/us-central1'
IMAGE = 'us-central1-docker.pkg.dev/acme-project/taxi/taxi-pipeline:v1'


@pytest.fixture
def client(vertex):
  vertex.reset()
  return ModelServiceClient(credentials=vertex.credentials(),
                            client_options={'api_endpoint': vertex.endpoint})


def _upload(client, parent_model='', aliases=()):
  model = {'display_name': 'chicago-taxi', 'artifact_uri': 'gs://b/models/x',
           'container_spec': {'image_uri': IMAGE}, 'version_aliases': list(aliases)}
  request = {'parent': PARENT, 'model': model, 'parent_model': parent_model}
  return client.upload_model(request=request).result(timeout=30)


def _aliases(client, name):
  return {m.version_id: sorted(m.version_aliases)
          for m in client.list_model_versions(name=name).models}


def test_versions_of_one_model_with_aliases_that_move(client):
  first = _upload(client, aliases=['champion'])
  name = first.model
  assert first.model_version_id == '1'
  assert _aliases(client, name) == {'1': ['champion', 'default']}  # the first is the default
  second = _upload(client, parent_model=name, aliases=['champion', 'default'])
  assert (second.model, second.model_version_id) == (name, '2')  # a version, not a new model
  assert _aliases(client, name) == {'1': [], '2': ['champion', 'default']}
  third = _upload(client, parent_model=name, aliases=['challenger'])  # is_default_version=False
  assert third.model_version_id == '3'
  assert _aliases(client, name) == {'1': [], '2': ['champion', 'default'], '3': ['challenger']}
  # A name means its default version; @<version> and @<alias> pick one.
  assert client.get_model(name=name).version_id == '2'
  assert client.get_model(name=f'{name}@challenger').version_id == '3'
  assert client.get_model(name=f'{name}@1').version_id == '1'
  with pytest.raises(exceptions.NotFound):
    client.get_model(name=f'{name}@nope')
  # One model in the listing (its default version), found by display name.
  [listed] = client.list_models(request={'parent': PARENT,
                                         'filter': 'display_name="chicago-taxi"'})
  assert (listed.name, listed.version_id) == (name, '2')
  with pytest.raises(exceptions.NotFound):
    _upload(client, parent_model=f'{PARENT}/models/404')


def test_merge_version_aliases_adds_removes_and_keeps_one_default(client):
  name = _upload(client).model
  _upload(client, parent_model=name, aliases=['default'])
  merged = client.merge_version_aliases(name=f'{name}@1', version_aliases=['champion', 'blue'])
  assert sorted(merged.version_aliases) == ['blue', 'champion']
  assert _aliases(client, name) == {'1': ['blue', 'champion'], '2': ['default']}
  # Adding an alias another version has moves it; '-alias' removes one.
  client.merge_version_aliases(name=f'{name}@2', version_aliases=['champion', '-blue'])
  client.merge_version_aliases(name=f'{name}@1', version_aliases=['-blue', 'default'])
  assert _aliases(client, name) == {'1': ['default'], '2': ['champion']}


@pytest.mark.parametrize('aliases, message', [
    (['-default'], "the 'default' alias cannot be removed"),
    (['12'], "version alias '12' is invalid"),
    (['Champion'], "version alias 'Champion' is invalid"),
])
def test_bad_alias_changes_are_refused(client, aliases, message):
  name = _upload(client).model
  with pytest.raises(exceptions.InvalidArgument, match=message):
    client.merge_version_aliases(name=f'{name}@1', version_aliases=aliases)
  assert _aliases(client, name) == {'1': ['default']}
