"""A minimal Cloud Storage JSON API over plain HTTP on 127.0.0.1, for STORAGE_EMULATOR_HOST.

google-cloud-storage sends every request to STORAGE_EMULATOR_HOST when it is set. This serves
what aiplatform's staging path uses (gcs_utils.stage_local_data_in_gcs: bucket get/insert,
multipart or resumable object upload) and plain reads (object metadata, media, listing,
deletion). Object `name` of bucket `b` is the file `<gcs_root>/b/<name>`: the engine maps
gs://b/x to the same path, so a staged model is a real local folder.

`refuse=True` answers every storage request 403 instead, as for a caller without storage rights:
PipelineJob.submit() then skips its bucket checks (see LocalVertexAI's refuse_storage).
"""

import base64
import datetime
import hashlib
import json
import mimetypes
import os
import re
import threading
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple
from urllib.parse import parse_qs, quote, unquote, urlsplit

import google_crc32c

from vertex_local.api.projects import project_number
from vertex_local.api.registry import Registry

_PARTIAL = '.local-gcs-partial'  # an upload being written; never listed
_BUCKET_NAME = re.compile(r'^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$')


class StorageError(Exception):
  """An HTTP error answer, in the JSON API's error format."""

  def __init__(self, status: int, message: str, reason: str = 'invalid'):
    super().__init__(message)
    self.status, self.message, self.reason = status, message, reason


Response = Tuple[int, Dict[str, str], bytes]


def _json(status: int, body: Any, headers: Optional[Dict[str, str]] = None) -> Response:
  return status, {'Content-Type': 'application/json; charset=UTF-8', **(headers or {})}, \
      json.dumps(body).encode()


def error_response(error: StorageError) -> Response:
  return _json(error.status, {'error': {'code': error.status, 'message': error.message, 'errors': [
      {'message': error.message, 'domain': 'global', 'reason': error.reason}]}})


def _timestamp(seconds: float) -> str:
  moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
  return moment.strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3] + 'Z'


def _digests(path: Path) -> Tuple[str, str]:
  """(md5, crc32c) of a file, base64 as the JSON API gives them."""
  md5, crc = hashlib.md5(), google_crc32c.Checksum()
  with path.open('rb') as file:
    for block in iter(lambda: file.read(1 << 20), b''):
      md5.update(block)
      crc.update(block)
  return base64.b64encode(md5.digest()).decode(), base64.b64encode(crc.digest()).decode()


def _parse_multipart(content_type: str, body: bytes) -> Tuple[Dict[str, Any], bytes]:
  """(metadata, media) of a multipart/related upload body."""
  match = re.search(r'boundary="?([^";]+)"?', content_type)
  if not match:
    raise StorageError(400, f'multipart upload without a boundary: {content_type!r}')
  parts = body.split(b'--' + match.group(1).encode())
  if len(parts) < 4:
    raise StorageError(400, 'a multipart upload needs a metadata part and a media part')
  sections = []
  for part in parts[1:3]:
    _, _, content = part.partition(b'\r\n\r\n')
    sections.append(content[:-2] if content.endswith(b'\r\n') else content)
  try:
    return json.loads(sections[0] or b'{}'), sections[1]
  except ValueError as error:
    raise StorageError(400, f'multipart upload metadata is not JSON: {error}') from error


class LocalStorage:
  """The storage behaviour behind the HTTP handler: buckets are folders, objects are files."""

  def __init__(self, gcs_root: Path, registry: Registry, lock: threading.RLock,
               default_project: str):
    self._root = gcs_root
    self._registry = registry
    self._lock = lock
    self._default_project = default_project
    self.base_url = ''  # http://127.0.0.1:<port>, set once the plain HTTP server listens
    self._uploads: Dict[str, Dict[str, Any]] = {}  # resumable sessions by upload_id

  def handle(self, method: str, target: str, headers: Dict[str, str], body: bytes) -> Response:
    parts = urlsplit(target)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    path = parts.path
    route = re.match(
        r'^/(upload/|download/)?storage/v1/b(?:/([^/]+)(?:(/o)(?:/(.+))?)?)?/?$', path)
    if route is None:
      raise StorageError(501, f'{method} {path} is not part of the local Cloud Storage (it '
                         'serves buckets and objects of the JSON API only)', 'notImplemented')
    kind, bucket, objects, name = route.groups()
    bucket = unquote(bucket) if bucket else None
    name = unquote(name) if name else None
    if kind == 'upload/' and bucket:
      return self._upload(method, bucket, query, headers, body)
    if bucket is None and method == 'POST':
      return self._insert_bucket(query, body)
    if bucket and objects and not name and method == 'GET':
      return self._list(bucket, query)
    if bucket and name and method == 'GET':
      return self._get_object(bucket, name, media=kind == 'download/' or
                              query.get('alt') == 'media')
    if bucket and name and method == 'DELETE':
      self._object_path(bucket, name, must_exist=True).unlink()
      return 204, {}, b''
    if bucket and not objects and method == 'GET':
      return _json(200, self._bucket(bucket))
    raise StorageError(501, f'{method} {path} is not supported by the local Cloud Storage',
                       'notImplemented')

  def _bucket(self, bucket: str) -> Dict[str, Any]:
    with self._lock:
      known = self._registry.buckets.get(bucket)
    if known is None and not (self._root / bucket).is_dir():
      raise StorageError(404, f'The specified bucket {bucket} does not exist.', 'notFound')
    if known is None:  # a folder made outside the API, e.g. by the engine's gs:// mapping
      created = _timestamp((self._root / bucket).stat().st_mtime)
      known = {'kind': 'storage#bucket', 'id': bucket, 'name': bucket, 'location': 'US',
               'projectNumber': project_number(self._default_project), 'metageneration': '1',
               'storageClass': 'STANDARD', 'timeCreated': created, 'updated': created}
    return {**known, 'selfLink': f'{self.base_url}/storage/v1/b/{bucket}'}

  def _insert_bucket(self, query: Dict[str, str], body: bytes) -> Response:
    request = json.loads(body or b'{}')
    bucket = request.get('name', '')
    if not _BUCKET_NAME.match(bucket):
      raise StorageError(400, f'Invalid bucket name: {bucket!r}')
    with self._lock:
      if bucket in self._registry.buckets or (self._root / bucket).is_dir():
        raise StorageError(409, f'The bucket {bucket} already exists.', 'conflict')
      now = _timestamp(datetime.datetime.now().timestamp())
      self._registry.buckets[bucket] = {
          'kind': 'storage#bucket', 'id': bucket, 'name': bucket, 'metageneration': '1',
          'location': request.get('location', 'US').upper(), 'storageClass': 'STANDARD',
          'projectNumber': project_number(query.get('project', self._default_project)),
          'timeCreated': now, 'updated': now}
      (self._root / bucket).mkdir(parents=True, exist_ok=True)
      self._registry.save()
    return _json(200, self._bucket(bucket))

  def _object_path(self, bucket: str, name: str, must_exist: bool = False) -> Path:
    segments = name.split('/')
    if not name or '\x00' in name or name.startswith('/') or '..' in segments or '.' in segments:
      raise StorageError(400, f'object name {name!r} cannot be stored as a local file')
    self._bucket(bucket)
    path = self._root / bucket / name
    if must_exist and not path.is_file() and not (name.endswith('/') and path.is_dir()):
      raise StorageError(404, f'No such object: {bucket}/{name}', 'notFound')
    return path

  def _resource(self, bucket: str, name: str, path: Path) -> Dict[str, Any]:
    stat = path.stat()
    md5, crc = _digests(path) if path.is_file() else ('1B2M2Y8AsgTpgAmY7PhCfg==', 'AAAAAA==')
    generation = str(stat.st_mtime_ns // 1000)
    link = f'{self.base_url}/storage/v1/b/{bucket}/o/{quote(name, safe="")}'
    return {'kind': 'storage#object', 'id': f'{bucket}/{name}/{generation}', 'name': name,
            'bucket': bucket, 'generation': generation, 'metageneration': '1',
            'contentType': mimetypes.guess_type(name)[0] or 'application/octet-stream',
            'size': str(stat.st_size if path.is_file() else 0), 'md5Hash': md5, 'crc32c': crc,
            'storageClass': 'STANDARD', 'timeCreated': _timestamp(stat.st_mtime),
            'updated': _timestamp(stat.st_mtime), 'selfLink': link,
            'mediaLink': f'{self.base_url}/download/storage/v1/b/{bucket}/o/'
                         f'{quote(name, safe="")}?generation={generation}&alt=media'}

  def _get_object(self, bucket: str, name: str, media: bool) -> Response:
    path = self._object_path(bucket, name, must_exist=True)
    resource = self._resource(bucket, name, path)
    if not media:
      return _json(200, resource)
    data = path.read_bytes() if path.is_file() else b''
    return 200, {'Content-Type': resource['contentType'],
                 'x-goog-hash': f'crc32c={resource["crc32c"]},md5={resource["md5Hash"]}',
                 'x-goog-generation': resource['generation'],
                 'x-goog-stored-content-length': resource['size']}, data

  def _store(self, bucket: str, name: str, data: bytes) -> Response:
    path = self._object_path(bucket, name)
    try:
      if name.endswith('/'):  # a "folder" placeholder object
        path.mkdir(parents=True, exist_ok=True)
      else:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f'.{path.name}.{uuid.uuid4().hex}{_PARTIAL}')
        partial.write_bytes(data)
        os.replace(partial, path)
    except (IsADirectoryError, NotADirectoryError, FileExistsError) as error:
      raise StorageError(409, f'gs://{bucket}/{name} cannot be stored at {path}: a local folder '
                         f'and file would share a name ({error.strerror})', 'conflict') from error
    return _json(200, self._resource(bucket, name, path))

  def _upload(self, method: str, bucket: str, query: Dict[str, str], headers: Dict[str, str],
              body: bytes) -> Response:
    kind = query.get('uploadType', 'media')
    if kind == 'multipart' and method == 'POST':
      metadata, data = _parse_multipart(headers.get('content-type', ''), body)
      return self._store(bucket, metadata.get('name') or query.get('name', ''), data)
    if kind == 'media' and method == 'POST':
      return self._store(bucket, query.get('name', ''), body)
    if kind == 'resumable' and method == 'POST':
      metadata = json.loads(body or b'{}')
      name = metadata.get('name') or query.get('name', '')
      self._object_path(bucket, name)  # check the name and bucket before the data comes
      upload_id = uuid.uuid4().hex
      with self._lock:
        self._uploads[upload_id] = {'bucket': bucket, 'name': name, 'data': bytearray()}
      location = (f'{self.base_url}/upload/storage/v1/b/{quote(bucket)}/o'
                  f'?uploadType=resumable&upload_id={upload_id}')
      return 200, {'Location': location}, b''
    if kind == 'resumable' and method in ('PUT', 'POST'):
      return self._resume(query.get('upload_id', ''), headers, body)
    raise StorageError(501, f'upload type {kind!r} ({method}) is not supported by the local '
                       'Cloud Storage', 'notImplemented')

  def _resume(self, upload_id: str, headers: Dict[str, str], body: bytes) -> Response:
    with self._lock:
      session = self._uploads.get(upload_id)
    if session is None:
      raise StorageError(404, f'No such resumable upload: {upload_id!r}', 'notFound')
    match = re.match(r'bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)', headers.get('content-range', ''))
    data = session['data']
    if match and match.group(1) is not None and int(match.group(1)) == len(data):
      data.extend(body)
    elif body:
      raise StorageError(400, f'Content-Range {headers.get("content-range")!r} does not '
                         f'continue the {len(data)} bytes received so far')
    total = match.group(3) if match else str(len(data))
    if total != '*' and int(total) == len(data):
      with self._lock:
        self._uploads.pop(upload_id, None)
      return self._store(session['bucket'], session['name'], bytes(data))
    return 308, ({'Range': f'bytes=0-{len(data) - 1}'} if data else {}), b''

  def _list(self, bucket: str, query: Dict[str, str]) -> Response:
    self._bucket(bucket)
    prefix, delimiter = query.get('prefix', ''), query.get('delimiter', '')
    limit, start = int(query.get('maxResults', '1000')), query.get('pageToken', '')
    items: List[Dict[str, Any]] = []
    prefixes: List[str] = []
    token = None
    for name, path in self._walk(bucket):
      if not name.startswith(prefix) or name <= start:
        continue
      if delimiter and delimiter in name[len(prefix):]:
        folder = name[:name.index(delimiter, len(prefix)) + len(delimiter)]
        if folder not in prefixes:
          prefixes.append(folder)
        continue
      if len(items) == limit:
        token = items[-1]['name']
        break
      items.append(self._resource(bucket, name, path))
    listing: Dict[str, Any] = {'kind': 'storage#objects', 'items': items, 'prefixes': prefixes}
    if token:
      listing['nextPageToken'] = token
    return _json(200, listing)

  def _walk(self, bucket: str) -> Iterator[Tuple[str, Path]]:
    root = self._root / bucket
    found = []
    for folder, _, files in os.walk(root):
      for file in files:
        if not file.endswith(_PARTIAL):
          path = Path(folder) / file
          found.append((path.relative_to(root).as_posix(), path))
    yield from sorted(found)
