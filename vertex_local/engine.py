"""The local engine: runs a compiled Vertex PipelineJob JSON on this machine, task by task, as
Vertex AI Pipelines would, so the exact spec a user submits is executed before any cloud spend.

What is faithful and what is substituted is documented in README.md ("Run the exact spec
before spending on the cloud"); every substitution a run used is printed and listed in
last_run.json. Tasks run in one topological order of the DAG (spec.py); the first failure stops
the run, as Vertex fails the pipeline.
"""

import dataclasses
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict

from core import data_quality
from core.home import PipelineHome
from core.names import UNCHANGED_MODEL_KEY
from runs.console import PrintLine
from runs.summary import ComponentRun, RunSummary, eval_metrics, record_data_quality
from vertex_local import ENGINE_NAME
from vertex_local import caching
from vertex_local import spec as spec_lib
from vertex_local import tasks as tasks_lib
from vertex_local.store import STORE_PREFIX, ArtifactStore
from vertex_local.substitutions import Substitutions, dockerfile_env

# Passed through from this machine: older OpenBLAS builds crash on some CPUs without them.
_MACHINE_ENV = ('OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE', 'TMPDIR')
# Where a Vertex pipeline's trainer keeps its custom-config training args (TFX's Vertex Trainer).
_TRAINING_ARGS_KEY = 'ai_platform_training_args'


class EngineError(RuntimeError):
  """The engine cannot run this spec here; the message says why and what to do."""


@dataclasses.dataclass(frozen=True)
class EngineSettings:
  spec_path: Path
  home: PipelineHome
  data_root: str  # DATA_ROOT: stands in for the spec's ExampleGen input_base
  python: str = sys.executable  # the venv standing in for the image

  @property
  def engine_dir(self) -> Path:
    return self.home.vertex_local


def run(settings: EngineSettings, summary: RunSummary, print_line: PrintLine,
        log: Callable[[str], None]) -> None:
  """Runs the spec, filling `summary` (status, components, model, metrics, details)."""
  job = spec_lib.load(settings.spec_path)
  package_root = installed_package_root(settings.python)
  substitutions = Substitutions(settings.engine_dir / 'gcs', package_root,
                                _data_root_mapping(job, settings.data_root), settings.python)
  run_id = f'{job.pipeline_name}-{datetime.datetime.now():%Y%m%d%H%M%S%f}'
  store = ArtifactStore(settings.engine_dir / 'metadata.json')
  contexts = [f'{STORE_PREFIX}/contexts/{job.pipeline_name}', f'{STORE_PREFIX}/contexts/{run_id}']
  summary.details.update(engine=ENGINE_NAME, spec=str(settings.spec_path), run_id=run_id)
  for image in job.images():
    warning = caching.mutable_image_warning(image)
    if warning:
      print_line(f'  warning: {warning}')
  _preview_substitutions(job, substitutions)
  context = tasks_lib.RunContext(
      job=job, run_id=run_id, store=store, substitutions=substitutions, produced={},
      environment=task_environment(package_root, settings), contexts=contexts,
      task_log_dir=settings.home.logs / 'tasks' / run_id, log=log)
  from vertex_local.api import LocalVertexAI  # pylint: disable=import-outside-toplevel
  api = LocalVertexAI(state_dir=settings.engine_dir / 'api', gcs_root=substitutions.gcs_root,
                      launch_replica=lambda replica: _launch_replica(replica, context))
  with api:
    context.environment.update(api.client_environment())
    substitutions.use('cloud_api', 'Vertex AI, Cloud Storage', f'local API at {api.endpoint}',
                      'TFX\'s own Vertex clients reach it over the wire (proxy + local CA)')
    for item in substitutions.used.values():
      print_line(f'  substitution {item.line()}')
    _run_tasks(job, context, summary, print_line)
    summary.details['model_registry'] = [
        json.loads(json.dumps(dataclasses.asdict(model), default=str))
        for model in api.models.values()]
  summary.details['substitutions'] = substitutions.listing()
  summary.details['resolved'] = context.resolved
  _fill_results(summary, context)


def _run_tasks(job, context, summary: RunSummary, print_line: PrintLine) -> None:
  runners = {'container': tasks_lib.run_container, 'resolver': tasks_lib.run_resolver,
             'importer': tasks_lib.run_importer}
  live = getattr(print_line, 'live', None)  # The console's elapsed-time line, if any.
  for name in job.order:
    task = job.tasks[name]
    started = time.monotonic()
    if live is not None:
      live.start(name)
    try:
      status = runners[task.kind](task, context) or 'ran'
    except (tasks_lib.TaskFailed, spec_lib.SpecError, ValueError) as error:
      summary.components.append(ComponentRun(name, time.monotonic() - started, False, 'failed'))
      print_line(_line(summary.components[-1]))
      summary.error = str(error) if str(error).startswith(name) else f'{name} failed: {error}'
      return
    run = ComponentRun(name, time.monotonic() - started, status == 'cached', status)
    summary.components.append(run)
    print_line(_line(run))
  summary.status = 'succeeded'


def _line(run: ComponentRun) -> str:
  return f'  {run.name:<38} {run.status:<7} {run.seconds:7.1f}s'


def _fill_results(summary: RunSummary, context: tasks_lib.RunContext) -> None:
  """Blessing, metrics and pushed model from this run's container outputs."""
  for (task_name, _), artifacts in sorted(context.produced.items()):
    if context.job.tasks[task_name].kind != 'container':
      continue  # a resolver's output is an earlier run's artifact
    for artifact in artifacts:
      if artifact.schema_title == 'tfx.ModelBlessing' and 'blessed' in artifact.metadata:
        summary.blessed = artifact.metadata['blessed'] == 1
        if artifact.metadata.get(UNCHANGED_MODEL_KEY) == 1:
          summary.details['model_unchanged'] = True
      elif artifact.schema_title == 'tfx.ModelEvaluation' and Path(artifact.uri).exists():
        summary.metrics = eval_metrics(artifact.uri)
        summary.evaluation_uri = artifact.uri
      elif artifact.schema_title == 'tfx.PushedModel' and artifact.metadata.get('pushed') == 1:
        summary.pushed_model = artifact.metadata.get('pushed_destination')
      elif artifact.schema_title == 'tfx.Examples' and data_quality.PROPERTY in artifact.metadata:
        record_data_quality(summary, artifact.metadata[data_quality.PROPERTY])


def _data_root_mapping(job: spec_lib.CompiledJob, data_root: str):
  bases = {spec_lib.constant_parameter(task, 'input_base', job)
           for task in job.tasks.values() if 'input_base' in task.parameters}
  if len(bases) > 1:
    raise EngineError(f'the spec reads data from several places {sorted(bases)}; DATA_ROOT '
                      'can stand in for one')
  return (bases.pop(), data_root) if bases else None


def _preview_substitutions(job: spec_lib.CompiledJob, substitutions: Substitutions) -> None:
  """Records the substitutions the tasks will use, so they are printed before anything runs."""
  substitutions.local_path(job.pipeline_root)
  for task in job.tasks.values():
    if task.kind != 'container':
      continue
    container = task.executor['container']
    substitutions.command(container['image'], container.get('command', []),
                          container.get('args', []))
    for key in task.parameters:
      value = spec_lib.constant_parameter(task, key, job)
      if isinstance(value, str):
        substitutions.text(value)
        if _TRAINING_ARGS_KEY in value:
          config = json.loads(value)
          pools = config.get(_TRAINING_ARGS_KEY, {}).get('job_spec', {}).get(
              'worker_pool_specs', [])
          for pool in pools:
            substitutions.accelerator_env(pool.get('machine_spec', {}))


def installed_package_root(python: str) -> Path:
  """The folder holding the installed `pipeline` package, as a fresh process outside the
  checkout imports it (an editable install points into the checkout)."""
  with tempfile.TemporaryDirectory() as workdir:
    result = subprocess.run(
        [python, '-c', 'import pathlib, pipeline; '
         'print(pathlib.Path(pipeline.__file__).resolve().parent.parent)'],
        cwd=workdir, capture_output=True, text=True, check=False, env={'PATH': '/usr/bin:/bin'})
  if result.returncode != 0:
    raise EngineError(f'this project is not installed in {python} (a fresh process cannot '
                      f'import it): run `make setup`. {result.stderr.strip()[-300:]}')
  return Path(result.stdout.strip())


def task_environment(package_root: Path, settings: EngineSettings) -> Dict[str, str]:
  """A container's environment: the image's ENV (infra/Dockerfile's runtime stage), with the
  venv for /opt/venv and a fresh home for the image user's."""
  dockerfile = package_root / 'infra' / 'Dockerfile'
  if not dockerfile.exists():
    raise EngineError(f'{dockerfile} not found: the local engine takes the image environment '
                      'from infra/Dockerfile; run it from a checkout of this project')
  venv = Path(settings.python).parent.parent
  home = settings.engine_dir / 'container_home'
  home.mkdir(parents=True, exist_ok=True)
  environment = dockerfile_env(dockerfile)
  environment.update(PATH=f'{venv}/bin:/usr/local/bin:/usr/bin:/bin', VIRTUAL_ENV=str(venv),
                     HOME=str(home), LANG='C.UTF-8')
  environment.update({key: os.environ[key] for key in _MACHINE_ENV if key in os.environ})
  return environment


def _launch_replica(replica: Any, context: tasks_lib.RunContext) -> subprocess.Popen:
  """Starts one replica of a CustomJob worker pool (vertex_local.api.workers.ReplicaSpec) as a
  local process: the local Vertex AI API calls this for each replica of a job the Vertex Trainer
  created. Same substitutions as a pipeline task, plus CPU stand-ins for the pool's
  accelerators."""
  container = replica.container_spec
  argv = context.substitutions.command(container.get('image_uri', ''),
                                       container.get('command', []), container.get('args', []))
  environment = dict(context.environment)
  environment.update(replica.env)
  environment.update(context.substitutions.accelerator_env(replica.machine_spec))
  Path(replica.log_path).parent.mkdir(parents=True, exist_ok=True)
  workdir = tempfile.mkdtemp(prefix='vertex-local-replica-')
  with open(replica.log_path, 'w') as log:
    return subprocess.Popen(argv, cwd=workdir, env=environment, stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
