"""LocalVertexAI: the Vertex AI API on this machine, reached by the real client libraries.

Four listeners on 127.0.0.1, started together:
- gRPC over TLS: PipelineService, ScheduleService, JobService (custom and batch prediction
  jobs), ModelService, EndpointService, PredictionService, google.longrunning.Operations, and
  Resource Manager's GetProject, with a certificate for *.googleapis.com signed by a CA made at
  start; every call needs the credentials the server issued (auth.py);
- plain HTTP: the Cloud Storage JSON API (objects are files under gcs_root) and a token endpoint;
- the same over TLS, for REST-only Google hosts (proxy.REST_HOSTS, e.g. iamcredentials);
- an HTTP CONNECT proxy that tunnels every CONNECT to one of the two TLS ports.
A child process started with `client_environment()` sends TFX's and aiplatform's calls for
`<region>-aiplatform.googleapis.com` here without any code change, and cannot reach Google.
"""

import fcntl
import ssl
import subprocess
import tempfile
import threading
from concurrent import futures
from pathlib import Path
from typing import Callable, Dict, List, Optional

import grpc
from google.longrunning import operations_pb2

from vertex_local.api import auth, checks, tls, workers
from vertex_local.api.batch_jobs import BatchPredictionJobs
from vertex_local.api.endpoints import EndpointService
from vertex_local.api.http_server import TOKEN_PATH, HttpServer
from vertex_local.api.jobs import JobService
from vertex_local.api.model_servers import ModelServers
from vertex_local.api.models import ModelService
from vertex_local.api.operations import Operations
from vertex_local.api.pipelines import PipelineJob, PipelineRunner, PipelineService
from vertex_local.api.projects import ProjectsService
from vertex_local.api.proxy import ConnectProxy
from vertex_local.api.registry import CustomJobRecord, EndpointRecord, ModelRecord, Registry
from vertex_local.api.rpc import Recorder, RecordedCall, handlers, merge, proto_method
from vertex_local.api.schedules import Clock, Schedule, ScheduleService, utc_now
from vertex_local.api.storage import LocalStorage

# Hosts every client reaches directly, never through the proxy (storage, token endpoint, and
# local gRPC such as TF_CONFIG clusters or Beam workers).
_LOCAL_HOSTS = '127.0.0.1,localhost,::1'


class LocalVertexAI:
  """The local Vertex AI API; also a context manager (start on enter, stop on exit).

  state_dir: the durable registry (registry.json, read here) and custom-job logs; reuse it
    across runs so models and endpoints persist, as on Vertex AI. One server per state_dir.
  gcs_root: gs://<bucket>/<object> is the file <gcs_root>/<bucket>/<object>.
  launch_replica: starts one replica of a CustomJob (default: workers.launch_locally).
  refuse_storage: answer every Cloud Storage request 403 (keeps PipelineJob.submit() from its
    bucket checks when clients are pointed here through api_endpoint rather than the proxy).
  project: the project of the service-account key and GOOGLE_CLOUD_PROJECT.
  run_pipeline: runs a created PipelineJob (pipelines.PipelineRunner; the local engine's, see
    vertex_local/service.py); None records jobs without running them.
  clock: the time schedules fire by (default: the wall clock).
  """

  def __init__(self, state_dir: Path, gcs_root: Path,
               launch_replica: Optional[Callable[[workers.ReplicaSpec], subprocess.Popen]] = None,
               refuse_storage: bool = False, project: str = 'local-project',
               run_pipeline: Optional[PipelineRunner] = None, clock: Clock = utc_now):
    self.state_dir = Path(state_dir)
    self.gcs_root = Path(gcs_root)
    self.project = project
    self._refuse_storage = refuse_storage
    self._lock = threading.RLock()
    self._recorder = Recorder(self._lock)
    self._authority = auth.Authority()  # every call needs the credentials written at start
    self._operations = Operations()
    self._registry = Registry(self.state_dir)
    self._registry.load()
    self._pipelines = PipelineService(self._lock, run_pipeline)
    self._schedules = ScheduleService(self._lock, self._pipelines, self._operations, clock)
    self._models = ModelService(self._registry, self._operations)
    self._servers = ModelServers(self.state_dir / 'model_servers')
    self._endpoints = EndpointService(self._registry, self._operations, self._models,
                                      self._servers, self._lock, self.gcs_root)
    self._jobs = JobService(self._registry, self._lock, self.state_dir / 'custom_jobs',
                            launch_replica or workers.launch_locally, self.client_environment)
    self._batch_jobs = BatchPredictionJobs(self._registry, self._lock, self._models,
                                           self.gcs_root, self.state_dir / 'batch_jobs')
    self._storage_requests: List[str] = []
    self._runtime: Optional[tempfile.TemporaryDirectory] = None
    self._grpc_server: Optional[grpc.Server] = None
    self._http: Optional[HttpServer] = None
    self._https: Optional[HttpServer] = None
    self._proxy: Optional[ConnectProxy] = None
    self._port = 0
    self._state_lock = None

  def start(self) -> 'LocalVertexAI':
    if self._runtime is not None:
      raise RuntimeError('this LocalVertexAI is already started; stop() it first')
    self.state_dir.mkdir(parents=True, exist_ok=True)
    self.gcs_root.mkdir(parents=True, exist_ok=True)
    self._lock_state_dir()
    try:
      self._start_listeners()
    except BaseException:
      self.stop()  # release what did start, and the state_dir
      raise
    return self

  def _start_listeners(self) -> None:
    with self._lock:
      self._jobs.fail_interrupted()
      self._batch_jobs.fail_interrupted()
      self._registry.save()
    # aiplatform's region list loads the whole SDK (seconds): not inside the first call.
    threading.Thread(target=checks.supported_regions, daemon=True).start()
    self._runtime = tempfile.TemporaryDirectory(prefix='local-vertex-')
    identity = tls.make_server_identity()
    tls.write_roots(Path(self.roots_path), identity)
    storage = LocalStorage(self.gcs_root, self._registry, self._lock, self.project)
    self._http = HttpServer(storage, self._refuse_storage, self._lock,
                            self._storage_requests, self._authority).start()
    storage.base_url = self._http.url
    self._https = HttpServer(storage, self._refuse_storage, self._lock, self._storage_requests,
                             self._authority, self._rest_tls(identity)).start()
    account = tls.write_service_account_key(Path(self.credentials_path), self.project,
                                            self._http.url + TOKEN_PATH)
    self._authority.trust_key(account.key_id, account.public_key_pem)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    services = merge(
        self._pipelines.methods(), self._schedules.methods(), self._jobs.methods(),
        self._batch_jobs.methods(), self._models.methods(), self._endpoints.methods(),
        ProjectsService().methods(),
        {'google.longrunning.Operations': {'GetOperation': proto_method(
            operations_pb2.GetOperationRequest, self._operations.get)}})
    server.add_generic_rpc_handlers(handlers(self._recorder, services, self._authority))
    self._port = server.add_secure_port('127.0.0.1:0', grpc.ssl_server_credentials(
        [(identity.key_pem, identity.certificate_pem)]))
    server.start()
    self._grpc_server = server
    self._proxy = ConnectProxy(grpc=('127.0.0.1', self._port), rest=self._https.address).start()
    self._pipelines.start(self._operations)
    self._schedules.start()

  def _rest_tls(self, identity: tls.ServerIdentity) -> ssl.SSLContext:
    """The REST port's TLS: the gRPC port's certificate, for HTTP/1.1 clients."""
    certificate = Path(self._started().name) / 'server-certificate.pem'
    key = Path(self._started().name) / 'server-key.pem'
    certificate.write_bytes(identity.certificate_pem)
    tls.write_private(key, identity.key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    context.set_alpn_protocols(['http/1.1'])
    return context

  def stop(self) -> None:
    """Stops schedules, the running pipeline job (CANCELLED), custom jobs (FAILED), batch
    prediction jobs and model servers, then every listener; state stays on disk."""
    self._schedules.stop()
    self._pipelines.stop()
    self._jobs.stop_all()
    self._batch_jobs.stop_all()
    self._servers.stop_all()
    if self._grpc_server is not None:
      self._grpc_server.stop(grace=None)
    for listener in (self._proxy, self._http, self._https):
      if listener is not None:
        listener.stop()
    if self._runtime is not None:
      self._runtime.cleanup()
    if self._state_lock is not None:
      self._state_lock.close()  # releases the flock
    self._grpc_server = self._http = self._https = self._proxy = None
    self._runtime = self._state_lock = None

  def _lock_state_dir(self) -> None:
    """One server per state_dir: two would overwrite each other's registry.json."""
    handle = (self.state_dir / '.lock').open('w')
    try:
      fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as error:
      handle.close()
      raise RuntimeError(f'another local Vertex AI server is using {self.state_dir}; stop it '
                         'first, or give this one another state_dir') from error
    self._state_lock = handle

  def __enter__(self) -> 'LocalVertexAI':
    return self.start()

  def __exit__(self, *exc_info) -> None:
    self.stop()

  def _started(self) -> tempfile.TemporaryDirectory:
    if self._runtime is None:
      raise RuntimeError('the local Vertex AI is not started: call start() first')
    return self._runtime

  @property
  def endpoint(self) -> str:
    """host:port of the gRPC server, for aiplatform.init(api_endpoint=...)."""
    self._started()
    return f'127.0.0.1:{self._port}'

  @property
  def roots_path(self) -> str:
    """PEM roots: the local CA, then gRPC's public roots."""
    return str(Path(self._started().name) / 'roots.pem')

  @property
  def credentials_path(self) -> str:
    """The service-account key file for GOOGLE_APPLICATION_CREDENTIALS."""
    return str(Path(self._started().name) / 'service-account.json')

  def credentials(self):
    """google-auth credentials of the issued service-account key, for an in-process client
    (a child process gets GOOGLE_APPLICATION_CREDENTIALS from client_environment())."""
    from google.oauth2 import service_account  # pylint: disable=import-outside-toplevel
    return service_account.Credentials.from_service_account_file(
        self.credentials_path, scopes=['https://www.googleapis.com/auth/cloud-platform'])

  @property
  def storage_emulator_host(self) -> str:
    """http://127.0.0.1:<port>, for STORAGE_EMULATOR_HOST."""
    self._started()
    return self._http.url

  @property
  def proxy_url(self) -> str:
    """http://127.0.0.1:<port> of the CONNECT proxy, for grpc_proxy / https_proxy."""
    self._started()
    return self._proxy.url

  def client_environment(self) -> Dict[str, str]:
    """The variables a child process needs so that its Google Cloud calls end up here.

    Set them before the child starts: gRPC reads its roots file and proxy once per process.
    """
    proxy, roots = self.proxy_url, self.roots_path
    return {
        'grpc_proxy': proxy,  # gRPC: CONNECT <region>-aiplatform.googleapis.com:443 here
        'https_proxy': proxy, 'HTTPS_PROXY': proxy,  # other HTTPS: tunnelled here, never out
        'http_proxy': proxy, 'HTTP_PROXY': proxy,  # plain HTTP out (e.g. a metadata probe): 405
        'no_proxy': _LOCAL_HOSTS, 'NO_PROXY': _LOCAL_HOSTS, 'no_grpc_proxy': _LOCAL_HOSTS,
        'GRPC_DEFAULT_SSL_ROOTS_FILE_PATH': roots,  # gRPC trusts the local CA
        'REQUESTS_CA_BUNDLE': roots,  # so do `requests` and google-auth's HTTP transport
        'GOOGLE_APPLICATION_CREDENTIALS': self.credentials_path,
        'GOOGLE_CLOUD_PROJECT': self.project,
        'STORAGE_EMULATOR_HOST': self.storage_emulator_host,
        'NO_GCE_CHECK': 'true',  # google-auth: never probe the GCE metadata server
        # Stay on the plain endpoints the certificate covers, never *.mtls.googleapis.com.
        'GOOGLE_API_USE_MTLS_ENDPOINT': 'never', 'GOOGLE_API_USE_CLIENT_CERTIFICATE': 'false',
    }

  def check_client_trust(self, timeout: float = 5.0) -> None:
    """Raises RuntimeError unless a default-roots TLS channel of this process trusts the server."""
    with grpc.secure_channel(self.endpoint, grpc.ssl_channel_credentials()) as channel:
      try:
        grpc.channel_ready_future(channel).result(timeout=timeout)
      except grpc.FutureTimeoutError as error:
        raise RuntimeError(
            f'no TLS connection to the local Vertex AI at {self.endpoint}: gRPC does not trust '
            f'its certificate. GRPC_DEFAULT_SSL_ROOTS_FILE_PATH must name {self.roots_path} '
            'before this process opens its first TLS channel (gRPC loads its roots once).'
        ) from error

  def calls(self, method: Optional[str] = None) -> List[RecordedCall]:
    """Every gRPC call received (of `method`, e.g. 'CreateCustomJob', if given), in order."""
    return self._recorder.calls(method)

  def fail_next(self, code: grpc.StatusCode, message: str, method: Optional[str] = None) -> None:
    """The next call (of `method`, if given) fails with code/message instead of being served."""
    self._recorder.fail_next(code, message, method)

  def tunnels(self) -> List[str]:
    """The host:port of every CONNECT the proxy tunnelled here, in order."""
    self._started()
    return self._proxy.tunnels()

  def reset(self) -> None:
    """Forgets recorded calls and storage requests, pending failures, pipeline jobs, schedules
    and operations. The persisted registry (custom jobs, models, endpoints) stays: it lives in
    state_dir, which the caller owns."""
    with self._lock:
      self._recorder.reset()
      self._pipelines.reset()
      self._schedules.reset()
      self._operations.reset()
      self._storage_requests.clear()

  @property
  def storage_requests(self) -> List[str]:
    """'METHOD /path?query' of every Cloud Storage request, in order."""
    with self._lock:
      return list(self._storage_requests)

  @property
  def pipeline_jobs(self) -> Dict[str, PipelineJob]:
    """Created pipeline jobs by resource name (live: in memory only, not persisted)."""
    return self._pipelines.pipeline_jobs

  @property
  def schedules(self) -> Dict[str, Schedule]:
    """Schedules by resource name (live: in memory only, not persisted)."""
    return self._schedules.schedules

  def fire_schedules(self, now) -> None:
    """Fires the schedules due at `now` (as the schedule thread does with the clock)."""
    with self._lock:
      self._schedules.tick(now)

  @property
  def custom_jobs(self) -> Dict[str, CustomJobRecord]:
    with self._lock:
      return {name: self._registry.custom_job_record(job, self._jobs.log_dir(name))
              for name, job in self._registry.custom_jobs.items()}

  @property
  def models(self) -> Dict[str, ModelRecord]:
    with self._lock:
      return {name: self._registry.model_record(model, self.gcs_root)
              for name, model in self._registry.models.items()}

  @property
  def endpoints(self) -> Dict[str, EndpointRecord]:
    with self._lock:
      return {name: self._registry.endpoint_record(endpoint)
              for name, endpoint in self._registry.endpoints.items()}
