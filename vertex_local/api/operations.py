"""google.longrunning operations for the local services' long-running methods.

The real service answers CreateEndpoint, UploadModel, DeployModel and DeleteSchedule with an
operation that is not done yet; clients then poll GetOperation. The local services do the work
when the request arrives but hand back an unfinished operation that completes on its first poll,
so clients go through the same polling code they use against Vertex AI, without waiting (the
first poll comes immediately).
"""

import itertools
from typing import Callable, Dict, Optional, Tuple

from google.longrunning import operations_pb2
from google.protobuf import message as pb_message

from vertex_local.api.rpc import not_found

# Called at the first poll: the operation's response (a pb2 message, packed as Any).
Completion = Callable[[], pb_message.Message]


class Operations:
  """The operations started since the server started (in memory only)."""

  def __init__(self):
    self._operations: Dict[str, Tuple[operations_pb2.Operation, Optional[Completion]]] = {}
    self._ids = itertools.count(1)

  def reset(self) -> None:
    self._operations.clear()

  def __contains__(self, name: str) -> bool:
    return name in self._operations

  def start(self, resource_name: str, complete: Completion,
            metadata: Optional[pb_message.Message] = None) -> operations_pb2.Operation:
    """A new unfinished operation on `resource_name`; `complete` gives its response."""
    operation = operations_pb2.Operation(name=f'{resource_name}/operations/{next(self._ids)}')
    if metadata is not None:
      operation.metadata.Pack(metadata)
    self._operations[operation.name] = (operation, complete)
    return operation

  def get(self, request: operations_pb2.GetOperationRequest) -> operations_pb2.Operation:
    if request.name not in self._operations:
      raise not_found('Operation', request.name)
    operation, complete = self._operations[request.name]
    if not operation.done and complete is not None:
      operation.response.Pack(complete())
      operation.done = True
      self._operations[request.name] = (operation, None)
    return operation
