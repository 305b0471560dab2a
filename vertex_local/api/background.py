"""A socketserver on 127.0.0.1 served from a daemon thread: the lifecycle the local API's HTTP
server and CONNECT proxy share."""

import socketserver
import threading


class BackgroundServer:
  """Serves `server` from a daemon thread between start() and stop()."""

  def __init__(self, server: socketserver.BaseServer, name: str):
    self._server = server
    self._thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)

  def start(self):
    self._thread.start()
    return self

  def stop(self) -> None:
    self._server.shutdown()
    self._server.server_close()

  @property
  def url(self) -> str:
    """http://127.0.0.1:<port>."""
    host, port = self._server.server_address[:2]
    return f'http://{host}:{port}'
