"""The CONNECT proxy and the certificates behind it, checked with Python's own ssl and http
clients (the test process's gRPC must stay free to trust the session's server)."""

import http.client
import socket
import ssl
from urllib.parse import urlsplit

import pytest
import requests

from vertex_local.api import LocalVertexAI


@pytest.fixture(scope='module')
def server(tmp_path_factory):
  home = tmp_path_factory.mktemp('proxy')
  with LocalVertexAI(home / 'state', home / 'gcs') as local:
    yield local


def _proxy_address(server):
  url = urlsplit(server.proxy_url)
  return url.hostname, url.port


def _connect(server, authority: str) -> socket.socket:
  """A socket tunnelled by the proxy to whatever answers `authority`."""
  tunnel = socket.create_connection(_proxy_address(server), timeout=10)
  tunnel.sendall(f'CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n'.encode())
  head = b''
  while b'\r\n\r\n' not in head:
    head += tunnel.recv(1024)
  assert head.startswith(b'HTTP/1.1 200'), head
  return tunnel


def test_the_proxy_refuses_anything_but_connect(server):
  connection = http.client.HTTPConnection(*_proxy_address(server), timeout=10)
  connection.request('GET', 'http://example.com/')
  response = connection.getresponse()
  assert response.status == 405 and response.getheader('Allow') == 'CONNECT'
  assert b'only tunnels CONNECT' in response.read()
  proxies = {'http': server.proxy_url}
  assert requests.get('http://169.254.169.254/computeMetadata/v1/', proxies=proxies,
                      timeout=10).status_code == 405
  assert not any('example.com' in tunnel for tunnel in server.tunnels())


@pytest.mark.parametrize('host', ['us-central1-aiplatform.googleapis.com',
                                  'europe-west4-aiplatform.googleapis.com',
                                  'cloudresourcemanager.googleapis.com'])
def test_the_certificate_chain_validates_for_google_hosts_through_the_proxy(server, host):
  context = ssl.create_default_context(cafile=server.roots_path)
  context.set_alpn_protocols(['h2'])  # as gRPC asks
  with context.wrap_socket(_connect(server, f'{host}:443'), server_hostname=host) as tls:
    assert tls.selected_alpn_protocol() == 'h2'  # the gRPC server answered
    names = [value for kind, value in tls.getpeercert()['subjectAltName']]
  assert '*.googleapis.com' in names
  assert f'{host}:443' in server.tunnels()


def test_other_hosts_are_tunnelled_here_and_fail_verification(server):
  context = ssl.create_default_context(cafile=server.roots_path)
  with pytest.raises(ssl.SSLCertVerificationError, match="match|mismatch"):
    context.wrap_socket(_connect(server, 'example.com:443'), server_hostname='example.com')


def test_the_local_ca_is_not_trusted_without_the_roots_file(server):
  host = 'us-central1-aiplatform.googleapis.com'
  with pytest.raises(ssl.SSLCertVerificationError, match='unable to get local issuer'):
    ssl.create_default_context().wrap_socket(_connect(server, f'{host}:443'),
                                             server_hostname=host)


def test_rest_only_hosts_are_answered_over_tls(server):
  # google-auth's background Regional Access Boundary lookup for service-account credentials.
  response = requests.get(
      'https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/'
      'a@b.iam.gserviceaccount.com/allowedLocations',
      proxies={'https': server.proxy_url}, verify=server.roots_path, timeout=10)
  assert response.status_code == 200
  assert response.json() == {'locations': [], 'encodedLocations': '0x0'}
