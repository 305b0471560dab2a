"""The local engine: runs a compiled Vertex PipelineJob JSON on this machine as Vertex AI
Pipelines would, so the exact spec a user submits is executed before any cloud spend.

What is faithful and what is substituted is documented in docs/vertex-local.md; every
substitution a run uses is printed before the first task starts and listed in last_run.json.
Tasks run as their upstream tasks allow, independent ones in parallel, failing slow unless the
job's failure policy says fast (scheduler.py); a cache hit is scoped to the pipeline
(caching.py). A run either starts its own local Vertex AI API or, for a job submitted to a
running one (service.py), uses that one.
"""

import dataclasses
import datetime
import functools
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from core import data_quality
from core.home import PipelineHome
from core.names import UNCHANGED_MODEL_KEY
from runs.console import PrintLine
from runs.summary import ComponentRun, RunSummary, eval_metrics, record_data_quality
from vertex_local import ENGINE_NAME
from vertex_local import caching
from vertex_local import preview
from vertex_local import scheduler
from vertex_local import spec as spec_lib
from vertex_local import tasks as tasks_lib
from vertex_local.store import STORE_PREFIX, ArtifactStore
from vertex_local.substitutions import Substitutions, dockerfile_env

# Passed through from this machine: older OpenBLAS builds crash on some CPUs without them.
_MACHINE_ENV = ('OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE', 'TMPDIR')
# The console's word for each task state (runs/summary.py keeps both).
STATUS_OF_STATE = {scheduler.SUCCEEDED: 'ran', scheduler.SKIPPED: 'cached',
                   scheduler.FAILED: 'failed', scheduler.NOT_TRIGGERED: 'not run',
                   scheduler.CANCELLED: 'cancelled'}


class EngineError(RuntimeError):
  """The engine cannot run this spec here; the message says why and what to do."""


@dataclasses.dataclass(frozen=True)
class EngineSettings:
  spec_path: Path
  home: PipelineHome
  data_root: str  # DATA_ROOT: stands in for the spec's ExampleGen input_base
  python: str = sys.executable  # the venv standing in for the image
  # As aiplatform's PipelineJob(enable_caching=..., parameter_values=..., failure_policy=...):
  # None keeps each task's compiled cachingOptions; False runs every step.
  enable_cache: Optional[bool] = None
  parameter_values: Mapping[str, Any] = dataclasses.field(default_factory=dict)
  failure_policy: Optional[str] = None  # 'slow' or 'fast'; None: the spec's
  parallelism: int = dataclasses.field(default_factory=scheduler.default_parallelism)

  @property
  def engine_dir(self) -> Path:
    return self.home.vertex_local


def load_job(settings: EngineSettings) -> spec_lib.CompiledJob:
  return spec_lib.load(settings.spec_path, settings.parameter_values, settings.enable_cache,
                       settings.failure_policy)


def run(settings: EngineSettings, summary: RunSummary, print_line: PrintLine,
        log: Callable[[str], None], api: Any = None,
        cancelled: Optional[threading.Event] = None,
        on_task: Callable[[scheduler.TaskResult], None] = lambda result: None) -> None:
  """Runs the spec, filling `summary` (status, components, model, metrics, details).

  `api`: a started vertex_local.api.LocalVertexAI to use (a submitted job's); None starts one
  for the run. `cancelled`: set it to stop the run. `on_task`: called as each task ends.
  """
  job = load_job(settings)
  package_root = installed_package_root(settings.python)
  substitutions = Substitutions(settings.engine_dir / 'gcs', package_root,
                                _data_root_mapping(settings), settings.python)
  run_id = f'{job.pipeline_name}-{datetime.datetime.now():%Y%m%d%H%M%S%f}'
  store = ArtifactStore(settings.engine_dir / 'metadata.json')
  contexts = [f'{STORE_PREFIX}/contexts/{job.pipeline_name}', f'{STORE_PREFIX}/contexts/{run_id}']
  summary.details.update(engine=ENGINE_NAME, spec=str(settings.spec_path), run_id=run_id,
                         parameters=dict(job.parameter_values),
                         failure_policy=job.failure_policy)
  for image in job.images():
    warning = caching.mutable_image_warning(image)
    if warning:
      print_line(f'  warning: {warning}')
  preview.preview(job, substitutions)
  context = tasks_lib.RunContext(
      job=job, run_id=run_id, store=store, substitutions=substitutions, produced={},
      environment=task_environment(package_root, settings.python, settings.engine_dir),
      contexts=contexts,
      task_log_dir=settings.home.logs / 'tasks' / run_id, log=log,
      cancelled=cancelled or threading.Event())
  if api is None:
    from vertex_local.api import LocalVertexAI  # pylint: disable=import-outside-toplevel
    launcher = functools.partial(launch_replica, substitutions=substitutions,
                                 environment=context.environment)
    with LocalVertexAI(state_dir=settings.engine_dir / 'api', gcs_root=substitutions.gcs_root,
                       launch_replica=launcher) as own_api:
      _run_with_api(job, context, own_api, summary, print_line, on_task, settings.parallelism)
  else:
    _run_with_api(job, context, api, summary, print_line, on_task, settings.parallelism)
  summary.details['substitutions'] = substitutions.listing()
  summary.details['resolved'] = context.resolved
  _fill_results(summary, context)


def _run_with_api(job, context, api, summary, print_line, on_task, parallelism) -> None:
  context.environment.update(api.client_environment())
  context.substitutions.use('cloud_api', 'Vertex AI, Cloud Storage',
                            f'local API at {api.endpoint}', "TFX's own Vertex clients reach it "
                            'over the wire (proxy + local CA)')
  for item in context.substitutions.used.values():
    print_line(f'  substitution {item.line()}')
  _run_tasks(job, context, summary, print_line, on_task, parallelism)
  summary.details['model_registry'] = [
      json.loads(json.dumps(dataclasses.asdict(model), default=str))
      for model in api.models.values()]


def _run_tasks(job: spec_lib.CompiledJob, context: tasks_lib.RunContext, summary: RunSummary,
               print_line: PrintLine, on_task, parallelism: int) -> None:
  runners = {'container': tasks_lib.run_container, 'resolver': tasks_lib.run_resolver,
             'importer': tasks_lib.run_importer}
  live = getattr(print_line, 'live', None)  # The console's elapsed-time line, if any.

  def started(running):
    if live is not None:
      live.start(', '.join(running))

  def ended(result: scheduler.TaskResult) -> None:
    run = ComponentRun(result.name, result.seconds, result.state == scheduler.SKIPPED,
                       STATUS_OF_STATE[result.state], state=result.state, error=result.error)
    summary.components.append(run)
    line = f'  {run.name:<38} {run.status:<7} {run.seconds:7.1f}s'
    if live is not None:
      live.finish(line)
    else:
      print_line(line)
    on_task(result)

  results = scheduler.run_dag(
      job.tasks, lambda task: runners[task.kind](task, context), fail_fast=job.fail_fast,
      parallelism=parallelism, cancelled=context.cancelled,
      on_start=started, on_end=ended)
  failed = sorted((r for r in results.values() if r.state in (scheduler.FAILED,
                                                              scheduler.CANCELLED)),
                  key=lambda r: r.order)
  if not failed:
    summary.status = 'succeeded'
  elif failed[0].state == scheduler.CANCELLED:
    summary.status, summary.error = 'cancelled', 'the run was cancelled'
  else:
    summary.error = '\n'.join(r.error or f'{r.name} failed' for r in failed)


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


def input_bases(job: spec_lib.CompiledJob) -> Tuple[str, ...]:
  """The folders the spec's ExampleGens read (their `input_base`), as the job resolves them."""
  return tuple(sorted({spec_lib.constant_parameter(task, 'input_base', job)
                       for task in job.tasks.values() if 'input_base' in task.parameters}))


def _data_root_mapping(settings: EngineSettings):
  """(the spec's own data folder, DATA_ROOT): DATA_ROOT stands in for the folder the spec was
  compiled with. A run given another folder (`--param data_root=...`) reads that one."""
  bases = input_bases(spec_lib.load(settings.spec_path))
  if len(bases) > 1:
    raise EngineError(f'the spec reads data from several places {list(bases)}; DATA_ROOT '
                      'can stand in for one')
  return (bases[0], settings.data_root) if bases else None


def local_input_base(settings: EngineSettings) -> str:
  """The folder this run's ExampleGen reads, on this machine: DATA_ROOT, unless the run's
  parameters name another folder (a gs:// one is read from the local Cloud Storage)."""
  mapping = _data_root_mapping(settings)
  bases = input_bases(load_job(settings))
  if not mapping or not bases or bases[0] == mapping[0]:
    return settings.data_root
  return Substitutions(settings.engine_dir / 'gcs', Path('/app'), None, settings.python).text(
      bases[0])


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


def task_environment(package_root: Path, python: str, engine_dir: Path) -> Dict[str, str]:
  """A container's environment: the image's ENV (infra/Dockerfile's runtime stage), with the
  venv for /opt/venv and a fresh home for the image user's."""
  dockerfile = package_root / 'infra' / 'Dockerfile'
  if not dockerfile.exists():
    raise EngineError(f'{dockerfile} not found: the local engine takes the image environment '
                      'from infra/Dockerfile; run it from a checkout of this project')
  venv = Path(python).parent.parent
  home = engine_dir / 'container_home'
  home.mkdir(parents=True, exist_ok=True)
  environment = dockerfile_env(dockerfile)
  environment.update(PATH=f'{venv}/bin:/usr/local/bin:/usr/bin:/bin', VIRTUAL_ENV=str(venv),
                     HOME=str(home), LANG='C.UTF-8')
  environment.update({key: os.environ[key] for key in _MACHINE_ENV if key in os.environ})
  return environment


def launch_replica(replica: Any, substitutions: Substitutions,
                   environment: Mapping[str, str]) -> subprocess.Popen:
  """Starts one replica of a CustomJob worker pool (vertex_local.api.workers.ReplicaSpec) as a
  local process: the local Vertex AI API calls this for each replica of a job the Vertex Trainer
  created. Same substitutions as a pipeline task, plus CPU stand-ins for the pool's
  accelerators. Its own process group, so stopping the job stops what it started."""
  container = replica.container_spec
  argv = substitutions.command(container.get('image_uri', ''), container.get('command', []),
                               container.get('args', []))
  env = dict(environment)
  env.update({key: substitutions.text(value) for key, value in replica.env.items()})
  env.update(substitutions.accelerator_env(replica.machine_spec))
  Path(replica.log_path).parent.mkdir(parents=True, exist_ok=True)
  workdir = tempfile.mkdtemp(prefix='vertex-local-replica-')
  with open(replica.log_path, 'w') as log:
    return subprocess.Popen(argv, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
