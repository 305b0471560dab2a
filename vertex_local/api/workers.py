"""Running a CustomJob's replicas as local processes, with the environment Vertex AI gives them.

Vertex AI starts `replica_count` replicas of every worker pool (pool 0: the chief, 1: workers,
2: parameter servers, 3: evaluators) and tells each where it stands through CLUSTER_SPEC (every
replica) and TF_CONFIG (distributed jobs only). Here each replica is a process started by a
launcher callback, on 127.0.0.1 with a free port per replica. See JobRun for when a job ends.
"""

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Sequence

from google.cloud.aiplatform_v1.types import custom_job as custom_job_types
from google.protobuf import json_format

# TF_CONFIG task types of worker pools 0..3, as Vertex AI documents them.
TASK_TYPES = ('chief', 'worker', 'ps', 'evaluator')


@dataclasses.dataclass(frozen=True)
class ReplicaSpec:
  """One replica of one worker pool of a CustomJob: what a launcher needs to start it.

  `container_spec` and `machine_spec` are the pool's specs as plain dicts with the API's field
  names (container_spec: image_uri, command, args, env [{name, value}]). `env` holds every
  variable the replica must see on top of the launcher's own environment: the client
  environment of the local Vertex AI, the container's env, then Vertex AI's own (CLUSTER_SPEC,
  TF_CONFIG for distributed jobs, CLOUD_ML_JOB_ID, AIP_* when the job has a base output
  directory). A launcher writes the replica's output to `log_path`: a failed job quotes it.
  """
  job_name: str  # the CustomJob's resource name
  display_name: str  # the CustomJob's display name
  pool_index: int
  replica_index: int
  container_spec: Mapping[str, Any]
  machine_spec: Mapping[str, Any]
  env: Mapping[str, str]
  log_path: Path

  @property
  def replica_name(self) -> str:
    """As Vertex AI names replicas in its messages, e.g. 'workerpool1-0'."""
    return f'workerpool{self.pool_index}-{self.replica_index}'

  @property
  def argv(self) -> List[str]:
    return [*self.container_spec.get('command', []), *self.container_spec.get('args', [])]


Launcher = Callable[[ReplicaSpec], subprocess.Popen]


class LaunchError(RuntimeError):
  """A replica could not be started; the job fails with this message."""


def launch_locally(spec: ReplicaSpec) -> subprocess.Popen:
  """The default launcher: runs the container's command + args here, image aside.

  The pool's image is this machine's environment, so a leading `python`/`python3` (what TFX's
  trainer puts first) is this interpreter. The process gets its own session so stopping a job
  also stops whatever the replica started, and its output goes to `spec.log_path`.
  """
  argv = spec.argv
  if not argv:
    raise LaunchError(
        f'replica {spec.replica_name} of {spec.job_name} has no container_spec.command: a local '
        f'replica cannot run the entrypoint of image {spec.container_spec.get("image_uri")!r}; '
        'give the worker pool a command')
  if argv[0] in ('python', 'python3'):
    argv = [sys.executable, *argv[1:]]
  env = {**os.environ, **spec.env}
  if 'TF_CONFIG' not in spec.env:  # a single-replica job: no stale cluster from our own env
    env.pop('TF_CONFIG', None)
  spec.log_path.parent.mkdir(parents=True, exist_ok=True)
  with spec.log_path.open('ab') as log:
    try:
      return subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    except OSError as error:
      raise LaunchError(f'replica {spec.replica_name} of {spec.job_name} did not start: '
                        f'{argv[0]!r}: {error.strerror}') from error


def _free_port() -> int:
  with socket.socket() as probe:
    probe.bind(('127.0.0.1', 0))
    return probe.getsockname()[1]


def _as_dict(message: Any) -> Dict[str, Any]:
  return json_format.MessageToDict(type(message).pb(message), preserving_proto_field_name=True)


def replica_specs(job: custom_job_types.CustomJob, client_env: Mapping[str, str],
                  log_dir: Path) -> List[ReplicaSpec]:
  """Every replica of every non-empty worker pool of `job`, with its Vertex AI environment."""
  pools = [(index, pool) for index, pool in enumerate(job.job_spec.worker_pool_specs)
           if pool.replica_count > 0]
  addresses = {index: [f'127.0.0.1:{_free_port()}' for _ in range(pool.replica_count)]
               for index, pool in pools}
  distributed = sum(pool.replica_count for _, pool in pools) > 1
  job_id = job.name.rsplit('/', 1)[-1]
  output = job.job_spec.base_output_directory.output_uri_prefix.rstrip('/')
  specs = []
  for index, pool in pools:
    container = _as_dict(pool.container_spec)
    for replica in range(pool.replica_count):
      env: Dict[str, str] = dict(client_env)
      env.update({item['name']: item.get('value', '') for item in container.get('env', [])})
      env['CLOUD_ML_JOB_ID'] = job_id
      env['CLUSTER_SPEC'] = json.dumps({
          'cluster': {f'workerpool{i}': hosts for i, hosts in addresses.items()},
          'environment': 'cloud',
          'task': {'type': f'workerpool{index}', 'index': replica}})
      if distributed:
        env['TF_CONFIG'] = json.dumps({
            # Evaluators are not part of the training cluster (TensorFlow's and Vertex's rule).
            'cluster': {TASK_TYPES[i]: hosts for i, hosts in addresses.items() if i != 3},
            'environment': 'cloud',
            'task': {'type': TASK_TYPES[index], 'index': replica}})
      if output:
        env.update(AIP_MODEL_DIR=f'{output}/model/', AIP_CHECKPOINT_DIR=f'{output}/checkpoints/',
                   AIP_TENSORBOARD_LOG_DIR=f'{output}/logs/')
      specs.append(ReplicaSpec(
          job_name=job.name, display_name=job.display_name, pool_index=index,
          replica_index=replica, container_spec=container,
          machine_spec=_as_dict(pool.machine_spec), env=env,
          log_path=log_dir / f'workerpool{index}-{replica}.log'))
  return specs


def log_tail(path: Path, lines: int = 20, max_bytes: int = 4000) -> str:
  """The last `lines` lines of a replica's log ('' if it has none)."""
  try:
    with path.open('rb') as log:
      log.seek(0, os.SEEK_END)
      log.seek(max(0, log.tell() - max_bytes))
      text = log.read().decode('utf-8', 'replace')
  except OSError:
    return ''
  return '\n'.join(text.splitlines()[-lines:])


def exit_message(spec: ReplicaSpec, returncode: int) -> str:
  """Why the job failed, worded like Vertex AI's message, with the end of the replica's log."""
  if returncode < 0:
    try:
      how = f'was killed by signal {signal.Signals(-returncode).name}'
    except ValueError:
      how = f'was killed by signal {-returncode}'
  else:
    how = f'exited with a non-zero status of {returncode}'
  tail = log_tail(spec.log_path)
  ending = f' Last lines of its log {spec.log_path}:\n{tail}' if tail else (
      f' Its log {spec.log_path} is empty.')
  return f'The replica {spec.replica_name} {how}.{ending}'


def stop_process(process: subprocess.Popen, grace: float = 5.0) -> None:
  """Stops a replica, and the processes it started when it leads its own process group."""
  if process.poll() is not None:
    return

  def send(sig: int) -> None:
    try:
      if os.getpgid(process.pid) == process.pid:  # its own group: ours alone to stop
        os.killpg(process.pid, sig)
      else:
        process.send_signal(sig)
    except ProcessLookupError:
      pass  # it just ended

  send(signal.SIGTERM)
  try:
    process.wait(timeout=grace)
  except subprocess.TimeoutExpired:
    send(signal.SIGKILL)
    process.wait()


def stop_all(processes: Sequence[subprocess.Popen]) -> None:
  for process in processes:
    stop_process(process)
