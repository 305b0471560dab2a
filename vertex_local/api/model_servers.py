"""The processes that serve deployed models, as Vertex AI runs a container per deployed model.

A model deployed to an endpoint gets its server when a prediction first needs it:
`python -m serving` (the serving package: the same code as the serving image's entrypoint) on
127.0.0.1 with Vertex AI's custom-container environment (AIP_HTTP_PORT, AIP_PREDICT_ROUTE,
AIP_HEALTH_ROUTE, AIP_STORAGE_URI: the model's artifacts, here their local folder). Predictions
wait for its health route, then go to its predict route as {"instances", "parameters"}. A
server stops when its model is undeployed, or with the local Vertex AI.

Batch prediction runs `python -m serving batch` once per job (batch_jobs.py).
"""

import dataclasses
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import grpc

from vertex_local.api import workers
from vertex_local.api.rpc import RpcError

PREDICT_ROUTE, HEALTH_ROUTE = '/predict', '/health'
START_SECONDS = 180.0  # TensorFlow's import and the model's load, on a busy machine


@dataclasses.dataclass(frozen=True)
class ServerSpec:
  deployed_model_id: str
  model: str  # the model version's resource name, <model>@<version>
  model_dir: Path  # its artifacts on this machine
  port: int
  predict_route: str
  health_route: str
  log_path: Path


Launcher = Callable[[ServerSpec], subprocess.Popen]


def serve_locally(spec: ServerSpec) -> subprocess.Popen:
  """`python -m serving` from this environment, with the container's AIP_* variables."""
  env = dict(os.environ, AIP_HTTP_PORT=str(spec.port), AIP_PREDICT_ROUTE=spec.predict_route,
             AIP_HEALTH_ROUTE=spec.health_route, AIP_STORAGE_URI=str(spec.model_dir),
             AIP_DEPLOYED_MODEL_ID=spec.deployed_model_id, TF_CPP_MIN_LOG_LEVEL='2')
  spec.log_path.parent.mkdir(parents=True, exist_ok=True)
  with spec.log_path.open('ab') as log:
    return subprocess.Popen([sys.executable, '-m', 'serving', '--host', '127.0.0.1'], env=env,
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True, cwd=spec.log_path.parent)


def free_port() -> int:
  with socket.socket() as probe:
    probe.bind(('127.0.0.1', 0))
    return probe.getsockname()[1]


class ModelServers:
  """One server process per deployed model id, started on first use."""

  def __init__(self, log_dir: Path, launcher: Launcher = serve_locally):
    self._log_dir = log_dir
    self._launcher = launcher
    self._lock = threading.Lock()
    self._servers: Dict[str, tuple] = {}  # deployed id -> (spec, process, ready event)

  def predict(self, deployed_model_id: str, model: str, model_dir: Optional[Path],
              instances: List[Any], parameters: Any) -> List[Any]:
    """The server's predictions; RpcError as Vertex answers a failed prediction."""
    if model_dir is None or not (model_dir / 'saved_model.pb').exists():
      raise RpcError(grpc.StatusCode.FAILED_PRECONDITION,
                     f'Model {model} has no SavedModel at {model_dir} to serve.')
    spec = self._ensure(deployed_model_id, model, model_dir)
    body = json.dumps({'instances': instances, **({'parameters': parameters}
                                                   if parameters is not None else {})}).encode()
    request = urllib.request.Request(
        f'http://127.0.0.1:{spec.port}{spec.predict_route}', data=body,
        headers={'Content-Type': 'application/json'}, method='POST')
    try:
      with urllib.request.urlopen(request, timeout=120) as answer:
        return json.loads(answer.read())['predictions']
    except urllib.error.HTTPError as error:
      detail = json.loads(error.read() or b'{}').get('error', error.reason)
      raise RpcError(grpc.StatusCode.INVALID_ARGUMENT if error.code == 400
                     else grpc.StatusCode.INTERNAL,
                     f'{{"error": "{detail}"}}') from None

  def _ensure(self, deployed_model_id: str, model: str, model_dir: Path) -> ServerSpec:
    with self._lock:
      if deployed_model_id not in self._servers:
        spec = ServerSpec(deployed_model_id, model, model_dir, free_port(), PREDICT_ROUTE,
                          HEALTH_ROUTE, self._log_dir / f'{deployed_model_id}.log')
        self._servers[deployed_model_id] = (spec, self._launcher(spec))
      spec, process = self._servers[deployed_model_id]
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
      if process.poll() is not None:
        with self._lock:
          self._servers.pop(deployed_model_id, None)
        raise RpcError(grpc.StatusCode.FAILED_PRECONDITION,
                       f'the server of deployed model {deployed_model_id} ({model}) exited '
                       f'{process.returncode}: {workers.log_tail(spec.log_path, 8)}')
      try:
        with urllib.request.urlopen(f'http://127.0.0.1:{spec.port}{spec.health_route}',
                                    timeout=5) as answer:
          if answer.status == 200:
            return spec
      except (urllib.error.URLError, ConnectionError, TimeoutError):
        pass  # not listening yet, or loading (503)
      time.sleep(0.3)
    raise RpcError(grpc.StatusCode.UNAVAILABLE,
                   f'the server of deployed model {deployed_model_id} is not ready after '
                   f'{START_SECONDS:.0f} s (log: {spec.log_path})')

  def stop(self, deployed_model_id: str) -> None:
    with self._lock:
      entry = self._servers.pop(deployed_model_id, None)
    if entry is not None:
      workers.stop_process(entry[1])

  def stop_all(self) -> None:
    with self._lock:
      entries, self._servers = list(self._servers.values()), {}
    for _, process in entries:
      workers.stop_process(process)
