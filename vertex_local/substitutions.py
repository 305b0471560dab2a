"""Every difference between a local-engine run and a Vertex run, named.

Nothing in the spec file is edited: each substitution is applied to the values a task receives
(parameters, artifact URIs, command line, environment), and each one used is printed and listed
in last_run.json under "substitutions":
- `gcs`: gs://<bucket>/<path> -> <home>/vertex_local/gcs/<bucket>/<path>;
- `data_root`: the ExampleGen's input_base (gs://.../data/taxi) -> DATA_ROOT;
- `source`: /app (the image's source folder) -> the installed package's folder;
- `image`: the container image -> this project's venv (python -m runs the installed package,
  in a fresh working directory outside the checkout, with the image's ENV from infra/Dockerfile);
- `beam`: Dataflow arguments -> the local DirectRunner arguments `make run` uses;
- `accelerator`: GPUs -> logical CPU devices; a TPU -> the default strategy;
- `cloud_api`: Vertex AI / Cloud Storage endpoints -> the local API (vertex_local/api).
"""

import dataclasses
import re
import shlex
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from core.beam_args import LOCAL_BEAM_ARGS, runner_name
from core.names import GPU_STAND_IN_ENV, TPU_STAND_IN_ENV

# kubeflow_v2_run_executor's and the ExampleGen driver's own flags (each takes a value); every
# other argument is a Beam argument (see their _parse_flags).
EXECUTOR_FLAGS = ('--executor_class_path', '--json_serialized_invocation_args',
                  '--json_serialized_inputs_spec_args')
_GCS_URI = re.compile(r'gs://(?P<path>[^\s"\'\\,]*)')
_APP_DIR = re.compile(r'(?:^|(?<=["\s=\']))/app(?=/|$|["\s\'])')


@dataclasses.dataclass(frozen=True)
class Substitution:
  kind: str
  original: str
  local: str
  why: str

  def line(self) -> str:
    return f'{self.kind}: {self.original} -> {self.local} ({self.why})'


class Substitutions:
  """Maps cloud values to local ones and records each mapping it used, once."""

  def __init__(self, gcs_root: Path, package_root: Path, data_root: Optional[Tuple[str, str]],
               python: str):
    self.gcs_root = gcs_root
    self.package_root = package_root
    self.python = python
    self._data_root = data_root  # (the spec's input_base, the local folder) or None
    self.used: Dict[Tuple[str, str], Substitution] = {}

  def use(self, kind: str, original: str, local: str, why: str) -> str:
    self.used.setdefault((kind, original), Substitution(kind, original, local, why))
    return local

  def listing(self) -> List[Dict[str, str]]:
    return [dataclasses.asdict(s) for s in self.used.values()]

  def local_path(self, uri: str) -> str:
    """One URI or path: gs:// and /app mapped, anything else unchanged."""
    return self.text(uri)

  def text(self, value: str) -> str:
    """Every gs:// URI and /app path inside `value` (e.g. a JSON parameter) mapped."""
    if self._data_root:
      spec_root, local_root = self._data_root
      if spec_root in value and spec_root != local_root:
        value = value.replace(spec_root, self.use(
            'data_root', spec_root, local_root, 'DATA_ROOT stands in for the bucket\'s data'))
    value = _GCS_URI.sub(self._gcs, value)
    if _APP_DIR.search(value):
      value = _APP_DIR.sub(lambda _: self.use(
          'source', '/app', str(self.package_root),
          'the image keeps the project at /app; here the installed package'), value)
    return value

  def _gcs(self, match: 're.Match[str]') -> str:
    bucket = match['path'].split('/', 1)[0]
    self.use('gcs', f'gs://{bucket}', str(self.gcs_root / bucket), 'no Cloud Storage here')
    return str(self.gcs_root / match['path'])

  def command(self, image: str, command: Sequence[str], args: Sequence[str]) -> List[str]:
    """The container's command line as it runs here: the venv's python, local Beam args."""
    command = list(command)
    if command and command[0] in ('python', 'python3'):
      command[0] = self.use('image', image, self.python,
                            'no container engine: the venv stands in for the image')
    own, beam = split_beam_args(args)
    if runner_name(beam) == 'dataflowrunner':
      self.use('beam', ' '.join(shlex.quote(a) for a in beam), ' '.join(LOCAL_BEAM_ARGS),
               'Dataflow cannot be reached: the local DirectRunner, as `make run`')
      beam = list(LOCAL_BEAM_ARGS)
    return command + own + [self.text(arg) for arg in beam]

  def accelerator_env(self, machine_spec: Mapping[str, object]) -> Dict[str, str]:
    """Environment for a worker pool replica: CPU stand-ins for its accelerators."""
    kind = str(machine_spec.get('accelerator_type') or machine_spec.get('acceleratorType') or '')
    count = int(machine_spec.get('accelerator_count') or machine_spec.get('acceleratorCount') or 0)
    if kind.startswith('NVIDIA_') and count:
      self.use('accelerator', f'{count} x {kind}', f'{count} logical CPU devices',
               'no GPU here: MirroredStrategy runs over logical CPU devices')
      return {GPU_STAND_IN_ENV: str(count)}
    if kind.startswith('TPU_'):
      self.use('accelerator', f'{kind} x {count}', 'the default strategy on the CPU',
               'no TPU here')
      return {TPU_STAND_IN_ENV: '1'}
    return {}


def split_beam_args(args: Sequence[str]) -> Tuple[List[str], List[str]]:
  """(the executor's own flags with their values, the Beam arguments), order kept."""
  own, beam = [], []
  i = 0
  while i < len(args):
    if args[i] in EXECUTOR_FLAGS and i + 1 < len(args):
      own += [args[i], args[i + 1]]
      i += 2
    else:
      beam.append(args[i])
      i += 1
  return own, beam


def dockerfile_env(dockerfile: Path) -> Dict[str, str]:
  """The ENV of the Dockerfile's last stage (the runtime image), `KEY=value` forms."""
  text = re.sub(r'\\\n', ' ', dockerfile.read_text())
  env: Dict[str, str] = {}
  for line in text.splitlines():
    line = line.strip()
    if line.upper().startswith('FROM '):
      env = {}  # a new stage starts with the base image's environment
    elif line.upper().startswith('ENV '):
      for item in shlex.split(line[4:]):
        key, sep, value = item.partition('=')
        if not sep:
          raise ValueError(f'{dockerfile}: ENV {line[4:]!r} is not in KEY=value form')
        env[key] = value
  return env
