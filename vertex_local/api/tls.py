"""Key material of the local Vertex AI: a private CA, the server certificate it signs, and a
service-account key.

Google's client libraries only speak TLS to `*.googleapis.com` and check the certificate against
their trusted roots. A client process trusts the local server because GRPC_DEFAULT_SSL_ROOTS_FILE_PATH
(and REQUESTS_CA_BUNDLE) name a roots file holding this CA, so no library needs patching. Every
key is made fresh at start and lives only as long as the server: nothing here is reusable
outside this machine's test or pipeline run.
"""

import dataclasses
import datetime
import ipaddress
import json
import os
from pathlib import Path
from typing import Sequence

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Names the server answers for: every regional Vertex endpoint (us-central1-aiplatform...),
# Resource Manager and any other *.googleapis.com a proxied client asks for, and direct
# connections to 127.0.0.1 (aiplatform.init(api_endpoint=...)).
SERVER_DNS_NAMES = ('*.googleapis.com', 'aiplatform.googleapis.com', 'googleapis.com', 'localhost')
SERVER_IPS = ('127.0.0.1',)
_VALIDITY = datetime.timedelta(days=60)  # outlasts any run; the keys die with the server


@dataclasses.dataclass(frozen=True)
class ServerIdentity:
  key_pem: bytes  # the server's private key
  certificate_pem: bytes  # the server's certificate (clients find its issuer in the roots)
  ca_certificate_pem: bytes  # what clients must trust


def _name(common_name: str) -> x509.Name:
  return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'local Vertex AI'),
                    x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(certificate: x509.Certificate) -> bytes:
  return certificate.public_bytes(serialization.Encoding.PEM)


def make_server_identity(dns_names: Sequence[str] = SERVER_DNS_NAMES,
                         ips: Sequence[str] = SERVER_IPS) -> ServerIdentity:
  """A new CA and a server certificate it signs for `dns_names` and `ips`.

  A separate CA (rather than one self-signed leaf) keeps the certificates what strict verifiers
  expect: a CA with keyCertSign, a leaf with serverAuth and key identifiers linking the two.
  """
  now = datetime.datetime.now(datetime.timezone.utc)
  ca_key = ec.generate_private_key(ec.SECP256R1())
  ca_name = _name('local Vertex AI root CA')
  ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
  ca_certificate = (
      x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
      .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
      .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + _VALIDITY)
      .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
      .add_extension(x509.KeyUsage(
          digital_signature=True, content_commitment=False, key_encipherment=False,
          data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
          encipher_only=False, decipher_only=False), critical=True)
      .add_extension(ca_ski, critical=False)
      .sign(ca_key, hashes.SHA256()))

  key = ec.generate_private_key(ec.SECP256R1())
  names = [x509.DNSName(name) for name in dns_names]
  names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
  certificate = (
      x509.CertificateBuilder().subject_name(_name(dns_names[0])).issuer_name(ca_name)
      .public_key(key.public_key()).serial_number(x509.random_serial_number())
      .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + _VALIDITY)
      .add_extension(x509.SubjectAlternativeName(names), critical=False)
      .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
      .add_extension(x509.KeyUsage(
          digital_signature=True, content_commitment=False, key_encipherment=False,
          data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
          encipher_only=False, decipher_only=False), critical=True)
      .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
      .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
      .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                     critical=False)
      .sign(ca_key, hashes.SHA256()))
  key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
  return ServerIdentity(key_pem=key_pem, certificate_pem=_pem(certificate),
                        ca_certificate_pem=_pem(ca_certificate))


def _grpc_bundled_roots() -> bytes:
  """gRPC's own public root CAs, so trusting the local CA does not distrust everything else."""
  roots = Path(grpc.__file__).parent / '_cython' / '_credentials' / 'roots.pem'
  return roots.read_bytes() if roots.is_file() else b''


def write_roots(path: Path, identity: ServerIdentity) -> None:
  """The roots file for GRPC_DEFAULT_SSL_ROOTS_FILE_PATH / REQUESTS_CA_BUNDLE."""
  path.write_bytes(identity.ca_certificate_pem + b'\n' + _grpc_bundled_roots())


def write_private(path: Path, data: bytes) -> None:
  """Writes a file only its owner can read (it holds a private key)."""
  descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
  with os.fdopen(descriptor, 'wb') as file:
    file.write(data)


@dataclasses.dataclass(frozen=True)
class ServiceAccount:
  email: str
  key_id: str  # the JWT header's `kid`
  public_key_pem: bytes  # verifies what the key signs (auth.Authority)


def write_service_account_key(path: Path, project: str, token_uri: str) -> ServiceAccount:
  """Writes a service-account key file (a fresh RSA key) for GOOGLE_APPLICATION_CREDENTIALS.

  google-auth signs its own JWTs with it (GAPIC clients send self-signed JWTs, no token call);
  clients that want an OAuth access token instead exchange a JWT at `token_uri`, which the local
  server answers. Returns the account: only its key's signatures are accepted.
  """
  key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
  email = f'local-vertex@{project}.iam.gserviceaccount.com'
  key_id = os.urandom(20).hex()
  info = {
      'type': 'service_account',
      'project_id': project,
      'private_key_id': key_id,
      'private_key': key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()).decode(),
      'client_email': email,
      'client_id': str(int(key_id[:16], 16)),
      'auth_uri': token_uri,
      'token_uri': token_uri,
      'universe_domain': 'googleapis.com',
  }
  write_private(path, json.dumps(info, indent=2).encode())
  public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
  return ServiceAccount(email, key_id, public)
