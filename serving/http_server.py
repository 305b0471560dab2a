"""The serving image's HTTP server: Vertex AI's custom-container contract.

Vertex AI starts the container with AIP_HTTP_PORT (listen there, default 8080),
AIP_PREDICT_ROUTE (POST {"instances": [...], "parameters": ...} -> {"predictions": [...]}),
AIP_HEALTH_ROUTE (GET: 200 once the model is loaded, so traffic may come) and AIP_STORAGE_URI
(the model's artifacts, a gs:// folder: TensorFlow reads it directly). Errors are a 400 with
{"error": "..."} naming the bad instance, as TF Serving answers a bad request.
"""

import dataclasses
import http.server
import json
import logging
import os
import threading
from typing import Mapping, Optional, Tuple

from serving import instances as instances_lib
from serving import model as model_lib

DEFAULT_PORT = 8080


@dataclasses.dataclass(frozen=True)
class ContainerSettings:
  """What Vertex AI tells the container, read once at start."""
  port: int
  predict_route: str
  health_route: str
  storage_uri: str

  @classmethod
  def from_environment(cls, environ: Mapping[str, str] = os.environ) -> 'ContainerSettings':
    storage = environ.get('AIP_STORAGE_URI', '')
    if not storage:
      raise SystemExit('AIP_STORAGE_URI is not set: Vertex AI sets it to the model\'s artifacts; '
                       'set it to a SavedModel folder to serve one here')
    port = environ.get('AIP_HTTP_PORT', str(DEFAULT_PORT))
    if not port.isdigit():
      raise SystemExit(f'AIP_HTTP_PORT must be a port number, got {port!r}')
    return cls(int(port), environ.get('AIP_PREDICT_ROUTE', '/predict'),
               environ.get('AIP_HEALTH_ROUTE', '/health'), storage)


class ModelServer(http.server.ThreadingHTTPServer):
  daemon_threads = True

  def __init__(self, settings: ContainerSettings, host: str):
    self.settings = settings
    self.model: Optional[model_lib.ServedModel] = None
    self.load_error: Optional[str] = None
    self._lock = threading.Lock()  # one prediction at a time: TF uses every core already
    super().__init__((host, settings.port), _Handler)

  def load(self) -> None:
    try:
      self.model = model_lib.load(self.settings.storage_uri)
    except model_lib.ModelLoadError as error:
      self.load_error = str(error)
      logging.error('cannot serve %s: %s', self.settings.storage_uri, error)

  def answer(self, body: bytes) -> Tuple[int, dict]:
    if self.model is None:
      return 503, {'error': self.load_error or 'the model is still loading'}
    try:
      request = json.loads(body or b'{}')
    except json.JSONDecodeError as error:
      return 400, {'error': f'the request is not JSON: {error}'}
    if not isinstance(request, dict) or not isinstance(request.get('instances'), list):
      return 400, {'error': 'the request must be {"instances": [...]} (and optional '
                            '"parameters")'}
    try:
      with self._lock:
        return 200, {'predictions': self.model.predict(request['instances'])}
    except instances_lib.InstanceError as error:
      return 400, {'error': str(error)}


class _Handler(http.server.BaseHTTPRequestHandler):
  protocol_version = 'HTTP/1.1'
  server: ModelServer

  def _send(self, status: int, payload: dict) -> None:
    data = json.dumps(payload).encode()
    self.send_response(status)
    self.send_header('Content-Type', 'application/json')
    self.send_header('Content-Length', str(len(data)))
    self.end_headers()
    self.wfile.write(data)

  def do_GET(self) -> None:  # pylint: disable=invalid-name
    if self.path.split('?', 1)[0] != self.server.settings.health_route:
      self._send(404, {'error': f'no route {self.path}'})
    elif self.server.model is None:
      self._send(503, {'error': self.server.load_error or 'loading'})
    else:
      self._send(200, {'model': self.server.settings.storage_uri})

  def do_POST(self) -> None:  # pylint: disable=invalid-name
    body = self.rfile.read(int(self.headers.get('Content-Length') or 0))
    if self.path.split('?', 1)[0] != self.server.settings.predict_route:
      self._send(404, {'error': f'no route {self.path}'})
      return
    self._send(*self.server.answer(body))

  def log_message(self, format, *args) -> None:  # pylint: disable=redefined-builtin
    logging.info('%s %s', self.address_string(), format % args)


def serve(host: str = '0.0.0.0') -> None:
  """Serves until killed: binds first (health says 503), then loads the model."""
  settings = ContainerSettings.from_environment()
  server = ModelServer(settings, host)
  logging.info('serving %s on %s:%d (predict %s, health %s)', settings.storage_uri, host,
               server.server_address[1], settings.predict_route, settings.health_route)
  threading.Thread(target=server.load, name='load-model', daemon=True).start()
  server.serve_forever()
