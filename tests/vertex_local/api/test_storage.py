"""The local Cloud Storage, driven by the real google-cloud-storage client through
STORAGE_EMULATOR_HOST: objects are files under gcs_root."""

import base64
import hashlib
import io

import pytest
from google.api_core import exceptions
from google.cloud import storage

from vertex_local.api import LocalVertexAI

from tests.vertex_local.api.conftest import PROJECT


@pytest.fixture(scope='module')
def server(tmp_path_factory):
  home = tmp_path_factory.mktemp('storage')
  with LocalVertexAI(home / 'state', home / 'gcs', project=PROJECT) as local:
    yield local


@pytest.fixture
def client(server, monkeypatch):
  monkeypatch.setenv('STORAGE_EMULATOR_HOST', server.storage_emulator_host)
  return storage.Client(project=PROJECT)


@pytest.fixture
def bucket(client, request):
  return client.create_bucket(request.node.name.replace('_', '-')[:40].strip('-'),
                              location='us-central1')


def test_buckets_are_folders_and_remember_their_project(server, client):
  created = client.create_bucket('acme-staging', location='us-central1')
  assert (server.gcs_root / 'acme-staging').is_dir()
  fetched = client.get_bucket('acme-staging')
  assert fetched.location == 'US-CENTRAL1' and fetched.project_number == created.project_number
  with pytest.raises(exceptions.Conflict, match='already exists'):
    client.create_bucket('acme-staging')
  (server.gcs_root / 'made-by-the-engine').mkdir()
  assert client.bucket('made-by-the-engine').exists()
  assert not client.bucket('never-made').exists()


def test_multipart_and_resumable_uploads_land_as_files(server, bucket):
  small = bucket.blob('model/saved_model.pb')
  small.upload_from_string(b'small model')
  large = bucket.blob('model/variables/variables.data-00000-of-00001', chunk_size=256 * 1024)
  data = bytes(range(256)) * 4000
  # A stream of unknown size goes up in a resumable session (as files over 8 MB do), here in
  # four 256 KiB chunks.
  large.upload_from_file(io.BytesIO(data))

  root = server.gcs_root / bucket.name
  assert (root / 'model' / 'saved_model.pb').read_bytes() == b'small model'
  assert (root / 'model' / 'variables' / 'variables.data-00000-of-00001').read_bytes() == data
  assert bucket.blob('model/saved_model.pb').download_as_bytes() == b'small model'
  fetched = bucket.get_blob('model/variables/variables.data-00000-of-00001')
  assert fetched.size == len(data)
  assert fetched.md5_hash == base64.b64encode(hashlib.md5(data).digest()).decode()
  assert fetched.download_as_bytes(checksum='md5') == data  # checked against x-goog-hash
  puts = [request for request in server.storage_requests if request.startswith('PUT /upload/')]
  assert len(puts) == 4


def test_listing_with_prefix_and_delimiter_and_deleting(bucket):
  for name in ('a/1.txt', 'a/2.txt', 'a/b/3.txt', 'c.txt'):
    bucket.blob(name).upload_from_string(name)
  listing = bucket.client.list_blobs(bucket, prefix='a/', delimiter='/')
  assert [blob.name for blob in listing] == ['a/1.txt', 'a/2.txt']
  assert listing.prefixes == {'a/b/'}
  assert [blob.name for blob in bucket.list_blobs(max_results=3)] == [
      'a/1.txt', 'a/2.txt', 'a/b/3.txt']
  assert len(list(bucket.list_blobs(page_size=2))) == 4
  bucket.blob('c.txt').delete()
  with pytest.raises(exceptions.NotFound):
    bucket.blob('c.txt').download_as_bytes()


def test_names_that_would_leave_the_bucket_folder_are_refused(bucket):
  with pytest.raises(exceptions.BadRequest, match='cannot be stored as a local file'):
    bucket.blob('a/../../escape').upload_from_string(b'x')


def test_refusing_storage_answers_403_and_records_the_request(tmp_path, monkeypatch):
  with LocalVertexAI(tmp_path / 'state', tmp_path / 'gcs', refuse_storage=True) as server:
    monkeypatch.setenv('STORAGE_EMULATOR_HOST', server.storage_emulator_host)
    with pytest.raises(exceptions.Forbidden, match='refuses all requests'):
      storage.Client(project=PROJECT).get_bucket('taxi')
    assert server.storage_requests[0].startswith('GET /storage/v1/b/taxi?')
