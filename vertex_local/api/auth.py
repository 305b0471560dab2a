"""Who may call the local Vertex AI: only holders of the credentials it issued.

At start the server writes a service-account key (tls.write_service_account_key) for
GOOGLE_APPLICATION_CREDENTIALS. A client with that key either signs its own JWTs (what GAPIC
clients such as aiplatform's send: "self-signed JWT") or exchanges a signed JWT for an access
token at the server's token endpoint. Every gRPC call must carry `authorization: Bearer <token>`
with one of those: a JWT signed by the issued key and not expired, or a token the server handed
out. Anything else ends UNAUTHENTICATED with Vertex AI's (Google's) own messages.
"""

import secrets
import threading
import time
from typing import Mapping, Optional, Set

from google.auth import exceptions as auth_exceptions
from google.auth import jwt

MISSING = ('Request is missing required authentication credential. Expected OAuth 2 access '
           'token, login cookie or other valid authentication credential. See '
           'https://developers.google.com/identity/sign-in/web/devconsole-project.')
INVALID = ('Request had invalid authentication credentials. Expected OAuth 2 access token, '
           'login cookie or other valid authentication credential. See '
           'https://developers.google.com/identity/sign-in/web/devconsole-project.')
TOKEN_SECONDS = 3600


class Unauthenticated(Exception):
  """The call carries no credential, or one this server did not issue."""


class Authority:
  """The issued key's public half, and the access tokens handed out for it."""

  def __init__(self):
    self._lock = threading.Lock()
    self._public_keys: Mapping[str, bytes] = {}
    self._tokens: Set[str] = set()
    self._expiry = {}

  def trust_key(self, key_id: str, public_pem: bytes) -> None:
    with self._lock:
      self._public_keys = {key_id: public_pem}
      self._tokens.clear()

  def issue_token(self, assertion: str) -> str:
    """An access token for a JWT assertion signed by the issued key (the token endpoint's
    jwt-bearer grant); Unauthenticated when the assertion is not."""
    self.verify_jwt(assertion)
    token = f'local-vertex-{secrets.token_hex(16)}'
    with self._lock:
      self._tokens.add(token)
      self._expiry[token] = time.time() + TOKEN_SECONDS
    return token

  def verify_jwt(self, token: str) -> Mapping[str, object]:
    with self._lock:
      keys = dict(self._public_keys)
    if not keys:
      raise Unauthenticated(INVALID)
    try:
      return jwt.decode(token, certs=keys, verify=True, clock_skew_in_seconds=30)
    except (ValueError, auth_exceptions.GoogleAuthError) as error:
      raise Unauthenticated(f'{INVALID} ({error})') from None

  def check(self, metadata: Mapping[str, str]) -> None:
    """Raises Unauthenticated unless the call's metadata carries an issued credential."""
    header: Optional[str] = metadata.get('authorization')
    if not header:
      raise Unauthenticated(MISSING)
    scheme, _, token = header.partition(' ')
    if scheme.lower() != 'bearer' or not token:
      raise Unauthenticated(INVALID)
    with self._lock:
      if token in self._tokens:
        if self._expiry[token] > time.time():
          return
        raise Unauthenticated(INVALID)
    if token.count('.') == 2:
      self.verify_jwt(token)
      return
    raise Unauthenticated(INVALID)
