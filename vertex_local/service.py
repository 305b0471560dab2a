"""A long-running local Vertex AI whose submitted pipeline jobs really run: `python -m pipeline
vertex-local serve` (docs/vertex-local.md).

The API (vertex_local.api.LocalVertexAI) keeps its state in `<home>/vertex_local/api`, as the
engine's own runs do, so models, endpoints and the artifact store are shared with `run --engine
vertex-local` in that home. A PipelineJob created through it (aiplatform's PipelineJob.submit(),
`python -m pipeline submit`, `run --engine vertex`, or a schedule firing) is written to
`<home>/vertex_local/submitted/<job id>.json` and run by the local engine with this API, one job
at a time, reported as every run is (last_run.json, history, report). Its task states reach the
job's task_details as each task ends; cancelling the job stops its running task.
"""

import dataclasses
import functools
import json
import shlex
import sys
from pathlib import Path
from typing import Optional

import datadefs
from core.home import PipelineHome
from runs import lock
from runs.console import PrintLine
from runs.summary import ReportWriter
from vertex_local import engine
from vertex_local import run as run_lib
from vertex_local import spec as spec_lib
from vertex_local.api import LocalVertexAI
from vertex_local.api.pipelines import PipelineRun
from vertex_local.substitutions import Substitutions

CLIENT_ENV_FILE = 'client.env'


@dataclasses.dataclass
class ServiceSettings:
  home: PipelineHome
  # The folder standing in for a spec's data folder (DATA_ROOT); None: each spec's dataset's
  # own data, as `make run` reads it.
  data_root: Optional[str] = None
  python: str = sys.executable
  project: str = 'local-project'


class LocalPipelineService:
  """start() ... stop(): the local Vertex AI with the engine as its pipeline runner."""

  def __init__(self, settings: ServiceSettings, print_line: PrintLine = print,
               write_report: Optional[ReportWriter] = None):
    self.settings = settings
    self._print = print_line
    self._write_report = write_report
    self.api: Optional[LocalVertexAI] = None

  @property
  def state_dir(self) -> Path:
    return self.settings.home.vertex_local / 'api'

  def start(self) -> 'LocalPipelineService':
    home = self.settings.home
    package_root = engine.installed_package_root(self.settings.python)
    gcs_root = home.vertex_local / 'gcs'
    environment = engine.task_environment(package_root, self.settings.python, home.vertex_local)
    launcher = functools.partial(
        engine.launch_replica, environment=environment,
        substitutions=Substitutions(gcs_root, package_root, None, self.settings.python))
    self.api = LocalVertexAI(self.state_dir, gcs_root, launch_replica=launcher,
                             project=self.settings.project, run_pipeline=self._run).start()
    environment.update(self.api.client_environment())
    self.client_env_file.write_text(''.join(
        f'export {key}={shlex.quote(value)}\n'
        for key, value in sorted(self.api.client_environment().items())))
    return self

  @property
  def client_env_file(self) -> Path:
    """`source` it: that shell's Google Cloud clients then talk to this API (and nowhere else:
    its proxy variables send every HTTPS request here)."""
    return self.state_dir / CLIENT_ENV_FILE

  def stop(self) -> None:
    if self.api is not None:
      self.api.stop()
      self.api = None
    self.client_env_file.unlink(missing_ok=True)

  def __enter__(self) -> 'LocalPipelineService':
    return self.start()

  def __exit__(self, *exc_info) -> None:
    self.stop()

  def _run(self, job: PipelineRun) -> str:
    """Runs one submitted job; '' when it succeeded, else why not."""
    home = self.settings.home
    job_id = job.name.rsplit('/', 1)[-1]
    spec_path = home.vertex_local / 'submitted' / f'{job_id}.json'
    spec_path.parent.mkdir(parents=True, exist_ok=True)
    spec_path.write_text(json.dumps(job.job, indent=1, sort_keys=True))
    self._print(f'pipeline job {job.name}: running {spec_path}')
    try:
      data_root = self.settings.data_root or _own_data(spec_path, home)
      summary = run_lib.run_and_report(
          engine.EngineSettings(spec_path=spec_path, home=home, data_root=data_root,
                                python=self.settings.python),
          self._print, self._write_report, api=self.api, cancelled=job.cancelled,
          on_task=lambda result: job.task_ended(result.name, result.state, result.seconds,
                                                result.error))
    except (lock.PipelineBusyError, spec_lib.SpecError, ValueError) as error:
      self._print(f'pipeline job {job.name}: not run: {error}')
      return str(error)
    self._print(f'pipeline job {job.name}: {summary.status}')
    return '' if summary.status == 'succeeded' else (summary.error or summary.status)


def _own_data(spec_path: Path, home: PipelineHome) -> str:
  """The data of the spec's dataset, for a service started without DATA_ROOT (data made at run
  time is written in `home`)."""
  dataset = run_lib.dataset_of_spec(spec_lib.load(spec_path)) or datadefs.load()
  if not dataset.default_data_root:
    raise ValueError(f'dataset {dataset.name!r} has no data of its own here: start the service '
                     'with DATA_ROOT (or --data-root) set to its data folder')
  return datadefs.data_root(dataset, home.generated_data)
