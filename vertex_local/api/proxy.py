"""An HTTP CONNECT proxy on 127.0.0.1 that tunnels every CONNECT to the local server.

TFX builds its Vertex clients for `<region>-aiplatform.googleapis.com:443` and aiplatform checks
bucket ownership at `cloudresourcemanager.googleapis.com:443`; neither can be told another
address. gRPC honours `grpc_proxy`/`https_proxy`: it opens `CONNECT host:443` at the proxy, then
speaks TLS for `host` through the tunnel. Whatever host was asked, the tunnel ends at a local
port whose certificate covers *.googleapis.com: the REST port for the few REST-only hosts
(REST_HOSTS), the gRPC port for all others. Anything that is not a CONNECT is refused, so a
process whose proxy is this one cannot reach the internet through it.
"""

import socket
import socketserver
import threading
from typing import List, Tuple

from vertex_local.api.background import BackgroundServer

# Hosts that client libraries call with REST (requests/urllib3), never gRPC.
REST_HOSTS = frozenset({'iamcredentials.googleapis.com', 'oauth2.googleapis.com',
                        'storage.googleapis.com'})
_MAX_HEADER_BYTES = 65536
_CHUNK = 65536


def _pipe(source: socket.socket, target: socket.socket) -> None:
  """Copies bytes one way until either side closes, then half-closes the other side."""
  try:
    while True:
      data = source.recv(_CHUNK)
      if not data:
        break
      target.sendall(data)
  except OSError:
    pass  # the other direction closed the sockets: the tunnel is over
  finally:
    try:
      target.shutdown(socket.SHUT_WR)
    except OSError:
      pass  # already closed


class _Server(socketserver.ThreadingTCPServer):
  daemon_threads = True
  allow_reuse_address = True


class ConnectProxy(BackgroundServer):
  """Tunnels CONNECTs for REST_HOSTS to `rest` and all others to `grpc` ((host, port) pairs);
  answers anything else with 405."""

  def __init__(self, grpc: Tuple[str, int], rest: Tuple[str, int]):
    self._grpc = grpc
    self._rest = rest
    self._lock = threading.Lock()
    self._tunnels: List[str] = []
    self._refused: List[str] = []
    server = _Server(('127.0.0.1', 0), self._handler())
    super().__init__(server, 'vertex-proxy')  # its url is for grpc_proxy / https_proxy

  def tunnels(self) -> List[str]:
    """The `host:port` of every CONNECT so far, in order."""
    with self._lock:
      return list(self._tunnels)

  def refused(self) -> List[str]:
    """The request line of every refused (non-CONNECT) request."""
    with self._lock:
      return list(self._refused)

  def _handler(self) -> type:
    proxy = self

    class Handler(socketserver.BaseRequestHandler):
      """Reads one request head; tunnels it if it is a CONNECT, refuses it otherwise."""

      def handle(self) -> None:
        client: socket.socket = self.request
        head = b''
        while b'\r\n\r\n' not in head:
          data = client.recv(4096)
          if not data or len(head) > _MAX_HEADER_BYTES:
            return
          head += data
        head, _, early = head.partition(b'\r\n\r\n')
        request_line = head.split(b'\r\n', 1)[0].decode('latin-1')
        parts = request_line.split()
        if len(parts) != 3 or parts[0].upper() != 'CONNECT':
          proxy._refuse(client, request_line)  # pylint: disable=protected-access
          return
        proxy._tunnel(client, parts[1], early)  # pylint: disable=protected-access

    return Handler

  def _refuse(self, client: socket.socket, request_line: str) -> None:
    with self._lock:
      self._refused.append(request_line)
    body = (b'The local Vertex AI proxy only tunnels CONNECT requests to the local server; '
            b'it forwards nothing else, so this request did not leave the machine.\n')
    client.sendall(b'HTTP/1.1 405 Method Not Allowed\r\nAllow: CONNECT\r\n'
                   b'Content-Type: text/plain\r\nConnection: close\r\n'
                   + f'Content-Length: {len(body)}\r\n\r\n'.encode() + body)

  def _tunnel(self, client: socket.socket, authority: str, early: bytes) -> None:
    with self._lock:
      self._tunnels.append(authority)
    host = authority.rsplit(':', 1)[0].lower()
    try:
      upstream = socket.create_connection(self._rest if host in REST_HOSTS else self._grpc,
                                          timeout=10)
    except OSError as error:
      message = f'local Vertex AI server unreachable: {error}\n'.encode()
      client.sendall(b'HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n'
                     + f'Content-Length: {len(message)}\r\n\r\n'.encode() + message)
      return
    upstream.settimeout(None)
    with upstream:
      client.sendall(b'HTTP/1.1 200 Connection established\r\n\r\n')
      if early:
        upstream.sendall(early)
      back = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
      back.start()
      _pipe(client, upstream)
      back.join()
