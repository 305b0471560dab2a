"""What every local service shares: call recording, injected failures, and the generic gRPC
handlers that decode requests with the real google-cloud-aiplatform types.

The services are plain classes whose methods take a decoded request and return a response; this
module turns a table of them into gRPC method handlers. All services of one server share one
re-entrant lock, held while a method runs, so state changes are atomic and the recording order is
the order the server acted in.
"""

import dataclasses
import logging
import threading
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import grpc
from google.protobuf import message as pb_message

from vertex_local.api import auth


@dataclasses.dataclass(frozen=True)
class RecordedCall:
  method: str  # the RPC's short name, e.g. 'CreateCustomJob'
  request: Any  # the request as the server decoded it (a proto-plus or pb2 message)
  metadata: Dict[str, str]


class RpcError(Exception):
  """Ends an RPC with a gRPC status, as the real service does for bad requests."""

  def __init__(self, code: grpc.StatusCode, message: str):
    super().__init__(message)
    self.code = code
    self.message = message


def not_found(kind: str, name: str) -> RpcError:
  return RpcError(grpc.StatusCode.NOT_FOUND, f'{kind} {name!r} was not found.')


class Recorder:
  """The calls the server received and the failures it was told to inject."""

  def __init__(self, lock: threading.RLock):
    self.lock = lock
    self._calls: List[RecordedCall] = []
    self._failures: List[Tuple[Optional[str], grpc.StatusCode, str]] = []

  def reset(self) -> None:
    with self.lock:
      self._calls.clear()
      self._failures.clear()

  def calls(self, method: Optional[str] = None) -> List[RecordedCall]:
    with self.lock:
      return [call for call in self._calls if method is None or call.method == method]

  def fail_next(self, code: grpc.StatusCode, message: str, method: Optional[str]) -> None:
    with self.lock:
      self._failures.append((method, code, message))

  def record(self, method: str, request: Any, metadata: Dict[str, str],
             admitted: bool = True) -> Optional[Tuple[grpc.StatusCode, str]]:
    """Records a call; returns the injected failure it must end with, if any (a call refused
    before it is served, `admitted` False, uses up none)."""
    with self.lock:
      self._calls.append(RecordedCall(method, request, metadata))
      if not admitted:
        return None
      for index, (only, code, message) in enumerate(self._failures):
        if only is None or only == method:
          del self._failures[index]
          return code, message
      return None


@dataclasses.dataclass(frozen=True)
class Method:
  """One unary RPC: how to decode its request, what answers it, how to encode the answer.

  `wait`, if given, runs before `behaviour` without the lock held (e.g. to give a job a moment to
  finish before its state is read); it gets the request and the seconds left before the
  client's deadline (None: no deadline). `locked` False runs `behaviour` without the lock (it
  takes it for what it reads and changes: a prediction waits on a model server).
  """
  decode: Callable[[bytes], Any]
  behaviour: Callable[[Any], Any]
  encode: Callable[[Any], bytes]
  wait: Optional[Callable[[Any, Optional[float]], None]] = None
  locked: bool = True


def proto_method(request_type: Any, behaviour: Callable[[Any], Any], response_type: Any = None,
                 wait: Optional[Callable[[Any, Optional[float]], None]] = None,
                 locked: bool = True) -> Method:
  """A Method whose request is proto-plus `request_type` (or a pb2 class) and whose response is
  proto-plus `response_type` (None: a pb2 message such as Empty or Operation)."""
  if isinstance(request_type, type) and issubclass(request_type, pb_message.Message):
    decode = request_type.FromString
  else:
    decode = request_type.deserialize
  encode = response_type.serialize if response_type else (lambda m: m.SerializeToString())
  return Method(decode, behaviour, encode, wait, locked)


def merge(*tables: Mapping[str, Mapping[str, Method]]) -> Dict[str, Dict[str, Method]]:
  """One {'package.Service': {'Method': ...}} table of several (two classes may serve methods
  of one service, e.g. custom and batch prediction jobs of JobService)."""
  merged: Dict[str, Dict[str, Method]] = {}
  for table in tables:
    for service, methods in table.items():
      merged.setdefault(service, {}).update(methods)
  return merged


def handlers(recorder: Recorder, services: Mapping[str, Mapping[str, Method]],
             authority: Optional[auth.Authority] = None) -> List[grpc.GenericRpcHandler]:
  """Generic gRPC handlers for {'package.Service': {'MethodName': Method}}; with an
  `authority`, every call must carry a credential it issued."""
  return [grpc.method_handlers_generic_handler(service, {
      name: _unary(recorder, name, method, authority) for name, method in methods.items()
  }) for service, methods in services.items()]


def _unary(recorder: Recorder, name: str, method: Method,
           authority: Optional[auth.Authority]) -> grpc.RpcMethodHandler:
  def handle(request, context: grpc.ServicerContext):
    metadata = dict(context.invocation_metadata())
    denied = None
    if authority is not None:
      try:
        authority.check(metadata)
      except auth.Unauthenticated as error:
        denied = (grpc.StatusCode.UNAUTHENTICATED, str(error))
    failure = denied or recorder.record(name, request, metadata, admitted=True)
    if denied:
      recorder.record(name, request, metadata, admitted=False)
    if failure is None:
      try:
        if method.wait is not None:
          method.wait(request, context.time_remaining())
        if not method.locked:
          return method.behaviour(request)
        with recorder.lock:
          return method.behaviour(request)
      except RpcError as error:
        failure = (error.code, error.message)
      except Exception as error:  # pylint: disable=broad-except; a server bug, not the client's
        logging.exception('local Vertex AI failed handling %s', name)
        failure = (grpc.StatusCode.INTERNAL,
                   f'the local Vertex AI server failed handling {name}: {error!r} (a bug in '
                   'vertex_local.api; its log has the traceback)')
    context.abort(*failure)

  return grpc.unary_unary_rpc_method_handler(handle, request_deserializer=method.decode,
                                             response_serializer=method.encode)
