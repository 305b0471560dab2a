"""A wire-level fake of Vertex AI Pipelines: the v1 PipelineService and ScheduleService over gRPC.

google-cloud-aiplatform 1.165's PipelineJob and PipelineJobSchedule call the v1 GAPIC clients
(aiplatform.compat.DEFAULT_VERSION is 'v1'; v1beta1 is only a select_version() away). Those
clients always open TLS channels (google.api_core.grpc_helpers.create_channel calls
grpc.secure_channel), so this fake serves real gRPC over TLS on 127.0.0.1 with a self-signed
certificate made at start. A client trusts it when GRPC_DEFAULT_SSL_ROOTS_FILE_PATH names
`roots_path` before the process opens its first TLS channel with default roots: gRPC reads that
file once per process. `check_client_trust()` says so clearly when that is not the case.

PipelineJob.submit() first looks up the pipeline root's bucket with google-cloud-storage: point
STORAGE_EMULATOR_HOST at `storage_emulator_host` and the fake records and refuses that lookup.
"""

import dataclasses
import datetime
import http.server
import ipaddress
import json
import tempfile
import threading
from concurrent import futures
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from google.cloud.aiplatform_v1.types import pipeline_job as pipeline_job_types
from google.cloud.aiplatform_v1.types import pipeline_service, pipeline_state
from google.cloud.aiplatform_v1.types import schedule as schedule_types
from google.cloud.aiplatform_v1.types import schedule_service
from google.longrunning import operations_pb2
from google.protobuf import empty_pb2

PipelineJob = pipeline_job_types.PipelineJob
Schedule = schedule_types.Schedule


@dataclasses.dataclass(frozen=True)
class RecordedCall:
  method: str  # the RPC's short name, e.g. 'CreatePipelineJob'
  request: Any  # the request as the server decoded it (a proto-plus or pb2 message)
  metadata: Dict[str, str]


class _Status(Exception):
  """Ends an RPC with a gRPC status, like the real service does for bad requests."""

  def __init__(self, code: grpc.StatusCode, message: str):
    super().__init__(message)
    self.code = code
    self.message = message


def _self_signed_certificate() -> Tuple[bytes, bytes]:
  """(key PEM, certificate PEM) valid for 127.0.0.1 and localhost for one day."""
  key = ec.generate_private_key(ec.SECP256R1())
  name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'fake-vertex-ai')])
  now = datetime.datetime.now(datetime.timezone.utc)
  certificate = (
      x509.CertificateBuilder().subject_name(name).issuer_name(name)
      .public_key(key.public_key()).serial_number(x509.random_serial_number())
      .not_valid_before(now - datetime.timedelta(minutes=5))
      .not_valid_after(now + datetime.timedelta(days=1))
      .add_extension(x509.SubjectAlternativeName(
          [x509.DNSName('localhost'), x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]),
                     critical=False)
      .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
      .sign(key, hashes.SHA256()))
  key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
  return key_pem, certificate.public_bytes(serialization.Encoding.PEM)


def _grpc_bundled_roots() -> bytes:
  """gRPC's own root CAs, so trusting the fake does not distrust everything else."""
  roots = Path(grpc.__file__).parent / '_cython' / '_credentials' / 'roots.pem'
  return roots.read_bytes() if roots.is_file() else b''


class FakeVertexAI:
  """Vertex AI PipelineService + ScheduleService + Operations, and a refusing Cloud Storage.

  Records every request (`calls()`), keeps pipeline jobs and schedules in memory, and fails the
  next matching call with a given status after `fail_next()`.
  """

  def __init__(self):
    self._lock = threading.Lock()
    self._dir = tempfile.TemporaryDirectory(prefix='fake-vertex-')
    self._grpc_server: Optional[grpc.Server] = None
    self._http_server: Optional[http.server.ThreadingHTTPServer] = None
    self._port = 0
    self.roots_path = str(Path(self._dir.name) / 'roots.pem')
    self.reset()

  def reset(self) -> None:
    """Forgets recorded calls, pending failures, jobs, schedules and operations."""
    with self._lock:
      self._calls: List[RecordedCall] = []
      self._failures: List[Tuple[Optional[str], grpc.StatusCode, str]] = []
      self.pipeline_jobs: Dict[str, PipelineJob] = {}
      self.schedules: Dict[str, Schedule] = {}
      self.operations: Dict[str, operations_pb2.Operation] = {}
      self.storage_requests: List[str] = []
      self._next_id = 1000

  def start(self) -> 'FakeVertexAI':
    key_pem, cert_pem = _self_signed_certificate()
    Path(self.roots_path).write_bytes(cert_pem + b'\n' + _grpc_bundled_roots())
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers(self._services())
    self._port = server.add_secure_port(
        '127.0.0.1:0', grpc.ssl_server_credentials([(key_pem, cert_pem)]))
    server.start()
    self._grpc_server = server
    self._http_server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), self._storage_handler())
    threading.Thread(target=self._http_server.serve_forever, daemon=True).start()
    return self

  def stop(self) -> None:
    if self._grpc_server is not None:
      self._grpc_server.stop(grace=None)
    if self._http_server is not None:
      self._http_server.shutdown()
      self._http_server.server_close()
    self._dir.cleanup()

  @property
  def endpoint(self) -> str:
    """host:port for aiplatform's api_endpoint."""
    return f'127.0.0.1:{self._port}'

  @property
  def storage_emulator_host(self) -> str:
    """URL for STORAGE_EMULATOR_HOST."""
    host, port = self._http_server.server_address[:2]
    return f'http://{host}:{port}'

  def check_client_trust(self, timeout: float = 5.0) -> None:
    """Raises RuntimeError unless a default-roots TLS channel of this process trusts the fake."""
    with grpc.secure_channel(self.endpoint, grpc.ssl_channel_credentials()) as channel:
      try:
        grpc.channel_ready_future(channel).result(timeout=timeout)
      except grpc.FutureTimeoutError as error:
        raise RuntimeError(
            f'no TLS connection to the fake Vertex AI at {self.endpoint}: gRPC does not trust '
            f'its certificate. GRPC_DEFAULT_SSL_ROOTS_FILE_PATH must name {self.roots_path} '
            'before this process opens its first TLS channel (gRPC loads its roots once).'
        ) from error

  def fail_next(self, code: grpc.StatusCode, message: str, method: Optional[str] = None) -> None:
    """The next call (of `method`, e.g. 'CreateSchedule', if given) fails with code/message."""
    with self._lock:
      self._failures.append((method, code, message))

  def calls(self, method: Optional[str] = None) -> List[RecordedCall]:
    with self._lock:
      return [call for call in self._calls if method is None or call.method == method]

  def _services(self) -> List[grpc.GenericRpcHandler]:
    def handler(request_type, behaviour, response_type=None):
      """(behaviour, deserializer, serializer) for a proto-plus request and any response."""
      serialize = response_type.serialize if response_type else lambda m: m.SerializeToString()
      return behaviour, request_type.deserialize, serialize

    get_operation = (self._get_operation, operations_pb2.GetOperationRequest.FromString,
                     lambda message: message.SerializeToString())
    services = {
        'google.cloud.aiplatform.v1.PipelineService': {
            'CreatePipelineJob': handler(pipeline_service.CreatePipelineJobRequest,
                                         self._create_pipeline_job, PipelineJob),
            'GetPipelineJob': handler(pipeline_service.GetPipelineJobRequest,
                                      lambda r: self._find(self.pipeline_jobs, r), PipelineJob),
        },
        'google.cloud.aiplatform.v1.ScheduleService': {
            'CreateSchedule': handler(schedule_service.CreateScheduleRequest,
                                      self._create_schedule, Schedule),
            'GetSchedule': handler(schedule_service.GetScheduleRequest,
                                   lambda r: self._find(self.schedules, r), Schedule),
            'ListSchedules': handler(schedule_service.ListSchedulesRequest, self._list_schedules,
                                     schedule_service.ListSchedulesResponse),
            'PauseSchedule': handler(schedule_service.PauseScheduleRequest, self._pause_schedule),
            'ResumeSchedule': handler(schedule_service.ResumeScheduleRequest,
                                      self._resume_schedule),
            'DeleteSchedule': handler(schedule_service.DeleteScheduleRequest,
                                      self._delete_schedule),
        },
        'google.longrunning.Operations': {'GetOperation': get_operation},
    }
    return [grpc.method_handlers_generic_handler(service, {
        method: self._rpc(method, *parts) for method, parts in methods.items()
    }) for service, methods in services.items()]

  def _rpc(self, method: str, behaviour: Callable[[Any], Any], deserialize, serialize):
    def handle(request, context):
      with self._lock:
        self._calls.append(RecordedCall(method, request, dict(context.invocation_metadata())))
        failure = self._take_failure(method)
        if failure is None:
          try:
            return behaviour(request)
          except _Status as status:
            failure = (status.code, status.message)
      context.abort(*failure)

    return grpc.unary_unary_rpc_method_handler(handle, request_deserializer=deserialize,
                                               response_serializer=serialize)

  def _take_failure(self, method: str) -> Optional[Tuple[grpc.StatusCode, str]]:
    for index, (only, code, message) in enumerate(self._failures):
      if only is None or only == method:
        del self._failures[index]
        return code, message
    return None

  def _new_id(self) -> str:
    self._next_id += 1
    return str(self._next_id)

  @staticmethod
  def _find(store: Dict[str, Any], request) -> Any:
    if request.name not in store:
      raise _Status(grpc.StatusCode.NOT_FOUND, f'Resource {request.name!r} was not found.')
    return store[request.name]

  def _create_pipeline_job(self, request) -> PipelineJob:
    job = PipelineJob.deserialize(PipelineJob.serialize(request.pipeline_job))
    job.name = f'{request.parent}/pipelineJobs/{request.pipeline_job_id or self._new_id()}'
    if job.name in self.pipeline_jobs:
      raise _Status(grpc.StatusCode.ALREADY_EXISTS, f'PipelineJob {job.name!r} already exists.')
    job.state = pipeline_state.PipelineState.PIPELINE_STATE_PENDING
    job.create_time = datetime.datetime.now(datetime.timezone.utc)
    self.pipeline_jobs[job.name] = job
    return job

  def _create_schedule(self, request) -> Schedule:
    schedule = Schedule.deserialize(Schedule.serialize(request.schedule))
    schedule.name = f'{request.parent}/schedules/{self._new_id()}'
    schedule.state = Schedule.State.ACTIVE
    schedule.create_time = datetime.datetime.now(datetime.timezone.utc)
    if schedule.start_time is None:  # as the service does: start when created
      schedule.start_time = schedule.create_time
    self.schedules[schedule.name] = schedule
    return schedule

  def _list_schedules(self, request) -> schedule_service.ListSchedulesResponse:
    return schedule_service.ListSchedulesResponse(schedules=[
        schedule for name, schedule in self.schedules.items()
        if name.startswith(f'{request.parent}/schedules/')])

  def _move(self, request, source: Schedule.State, target: Schedule.State) -> empty_pb2.Empty:
    schedule = self._find(self.schedules, request)
    if schedule.state != source:
      raise _Status(grpc.StatusCode.FAILED_PRECONDITION,
                    f'Schedule {request.name!r} is {schedule.state.name}, not {source.name}.')
    schedule.state = target
    return empty_pb2.Empty()

  def _pause_schedule(self, request) -> empty_pb2.Empty:
    return self._move(request, Schedule.State.ACTIVE, Schedule.State.PAUSED)

  def _resume_schedule(self, request) -> empty_pb2.Empty:
    return self._move(request, Schedule.State.PAUSED, Schedule.State.ACTIVE)

  def _delete_schedule(self, request) -> operations_pb2.Operation:
    """A long-running operation, done (and the schedule gone) when first polled."""
    self._find(self.schedules, request)
    operation = operations_pb2.Operation(name=f'{request.name}/operations/{self._new_id()}')
    self.operations[operation.name] = operation
    return operation

  def _get_operation(self, request) -> operations_pb2.Operation:
    operation = self._find(self.operations, request)
    if not operation.done:
      self.schedules.pop(operation.name.split('/operations/')[0], None)
      operation.done = True
      operation.response.Pack(empty_pb2.Empty())
    return operation

  def _storage_handler(self) -> type:
    fake = self

    class StorageHandler(http.server.BaseHTTPRequestHandler):
      """Refuses every Cloud Storage request with 403, as for a caller without storage rights.

      PipelineJob.submit() then logs the refusal and creates the job anyway. An answered bucket
      lookup would lead aiplatform on to its ownership check, which asks the real Resource
      Manager for the project number: a call that must not leave this machine.
      """

      def _refuse(self) -> None:
        with fake._lock:  # pylint: disable=protected-access
          fake.storage_requests.append(f'{self.command} {self.path}')
        data = json.dumps({'error': {'code': 403, 'message': 'fake Cloud Storage refuses all'}})
        self.send_response(403)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data.encode())

      do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _refuse

      def log_message(self, *args) -> None:  # keep test output quiet
        pass

    return StorageHandler
