"""The HTTP side of the local Vertex AI on 127.0.0.1: Cloud Storage, an OAuth token endpoint,
and IAM Credentials' allowedLocations lookup.

Plain HTTP, reached directly (no_proxy covers 127.0.0.1): google-cloud-storage through
STORAGE_EMULATOR_HOST, google-auth through the `token_uri` of the service-account key the server
writes (a storage client asks it for an access token before its first request).
Over TLS, reached through the CONNECT proxy: Google's REST-only hosts that libraries call on
their own. google-auth (2.62) looks up a service account's Regional Access Boundary at
iamcredentials.googleapis.com in the background; unanswered, it retries with urllib3 warnings in
every task log. Here it learns there is no boundary ("0x0"), as for an unrestricted account.
"""

import http.server
import json
import logging
import re
import socket
import ssl
import threading
import urllib.parse
from typing import Dict, List, Optional

from vertex_local.api import auth
from vertex_local.api.background import BackgroundServer
from vertex_local.api.storage import LocalStorage, Response, StorageError, error_response

TOKEN_PATH = '/token'


_ALLOWED_LOCATIONS = re.compile(r'^/v1/.+/allowedLocations$')


class _Server(http.server.ThreadingHTTPServer):
  """Serves each connection in its own thread, over TLS when given a context."""
  daemon_threads = True
  ssl_context: Optional[ssl.SSLContext] = None

  def finish_request(self, request, client_address) -> None:
    if self.ssl_context is None:
      super().finish_request(request, client_address)
      return
    try:  # the handshake runs in the connection's thread, not the accepting one
      secure = self.ssl_context.wrap_socket(request, server_side=True)
    except (ssl.SSLError, OSError):
      return  # a client that does not trust us, or went away: nothing to answer
    try:
      super().finish_request(secure, client_address)
    finally:
      try:
        secure.shutdown(socket.SHUT_RDWR)
      except OSError:
        pass  # the client closed first
      secure.close()


class HttpServer(BackgroundServer):
  """Routes /token and allowedLocations lookups to their answers, everything else to storage
  (or refuses it). `requests` collects 'METHOD /path?query' of every storage request."""

  def __init__(self, storage: LocalStorage, refuse: bool, lock: threading.RLock,
               requests: List[str], authority: auth.Authority,
               ssl_context: Optional[ssl.SSLContext] = None):
    self._storage = storage
    self._authority = authority
    self._refuse = refuse
    self._lock = lock
    self.requests = requests
    server = _Server(('127.0.0.1', 0), self._handler())
    server.ssl_context = ssl_context
    super().__init__(server, 'vertex-http')

  @property
  def address(self):
    return self._server.server_address[:2]

  def _answer(self, method: str, target: str, headers: Dict[str, str], body: bytes) -> Response:
    if target.split('?', 1)[0] == TOKEN_PATH:
      if method != 'POST':
        return error_response(StorageError(405, f'{TOKEN_PATH} takes POST requests only'))
      return self._token(body)
    if method == 'GET' and _ALLOWED_LOCATIONS.match(target.split('?', 1)[0]):
      boundary = {'locations': [], 'encodedLocations': '0x0'}  # google-auth's "no boundary"
      return 200, {'Content-Type': 'application/json'}, json.dumps(boundary).encode()
    with self._lock:
      self.requests.append(f'{method} {target}')
    if self._refuse:
      # An answered bucket lookup would lead PipelineJob.submit() on to its ownership check,
      # which asks Resource Manager for the project number: refusing keeps submit() local.
      return error_response(StorageError(
          403, 'the local Cloud Storage refuses all requests (refuse_storage=True)', 'forbidden'))
    try:
      return self._storage.handle(method, target, headers, body)
    except StorageError as error:
      return error_response(error)
    except ValueError as error:  # a malformed JSON body or query value
      return error_response(StorageError(400, f'malformed request: {error}'))
    except Exception as error:  # pylint: disable=broad-except; a server bug, not the client's
      logging.exception('local Cloud Storage failed on %s %s', method, target)
      return error_response(StorageError(
          500, f'the local Cloud Storage failed on {method} {target}: {error!r} (a bug in '
          'vertex_local.api; its log has the traceback)', 'backendError'))

  def _token(self, body: bytes) -> Response:
    """OAuth 2's jwt-bearer grant: an access token for a JWT signed by the issued key."""
    form = urllib.parse.parse_qs(body.decode('utf-8', 'replace'))
    try:
      token = self._authority.issue_token((form.get('assertion') or [''])[0])
    except auth.Unauthenticated as error:
      refusal = {'error': 'invalid_grant', 'error_description': str(error)}
      return 400, {'Content-Type': 'application/json'}, json.dumps(refusal).encode()
    answer = {'access_token': token, 'expires_in': auth.TOKEN_SECONDS, 'token_type': 'Bearer'}
    return 200, {'Content-Type': 'application/json'}, json.dumps(answer).encode()

  def _handler(self) -> type:
    server = self

    class Handler(http.server.BaseHTTPRequestHandler):
      """Reads the whole request, answers it with a Content-Length, keeps the connection."""
      protocol_version = 'HTTP/1.1'

      def _body(self) -> bytes:
        if self.headers.get('Transfer-Encoding', '').lower() == 'chunked':
          data = b''
          while True:
            size = int(self.rfile.readline().split(b';')[0].strip() or b'0', 16)
            if size == 0:
              self.rfile.readline()
              return data
            data += self.rfile.read(size)
            self.rfile.readline()
        return self.rfile.read(int(self.headers.get('Content-Length') or 0))

      def _serve(self) -> None:
        headers = {key.lower(): value for key, value in self.headers.items()}
        status, extra, data = server._answer(  # pylint: disable=protected-access
            self.command, self.path, headers, self._body())
        self.send_response(status)
        for key, value in extra.items():
          self.send_header(key, value)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        if self.command != 'HEAD':
          self.wfile.write(data)

      do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

      def log_message(self, *args) -> None:  # requests are recorded, not printed
        pass

    return Handler

