"""The local engine: the pipeline graph run by TFX's LocalDagRunner, with a SQLite MLMD store
and Beam's DirectRunner, in this process. `make run` (ENGINE=local, the default) and the tfx
CLI's ../local_runner.py run it.

A run: take the home's lock; say "nothing new" and stop when the data, settings and code are
those of the pipeline's last successful run (runs/fingerprint.py); check the data; run the
graph with TensorFlow's, Beam's and TFX's output in a log file and one console line per
component; then finish as every engine does (runs/summary.py). TensorFlow and TFX are imported
only once the run starts, inside the log redirect: "nothing new" and bad data are said at once.
"""

import argparse
import dataclasses
import json
import traceback

from core.home import PipelineHome
from pipeline.engines import local_progress
from pipeline.engines import local_store
from pipeline.environment import Environment, SettingsError
from pipeline.settings import PipelineSettings, RunSettings
from runs import baseline
from runs import console
from runs import fingerprint
from runs import lock
from runs import precheck
from runs.summary import ReportWriter, RunSummary, add_task_metrics, finish

NAME = local_store.ENGINE


def check_local(settings: RunSettings) -> None:
  """Raises SettingsError when the data cannot be read on this machine: BigQuery, or no data
  folder."""
  local_sources = settings.dataset.kind_info.local_sources
  if settings.data.source not in local_sources:
    raise SettingsError(f'DATA_SOURCE {settings.data.source!r} cannot be read locally; locally '
                        f'a {settings.dataset.kind} dataset reads {list(local_sources)}')
  settings.data.local_data_root()


def pipeline_settings(settings: RunSettings, home: PipelineHome) -> PipelineSettings:
  """What the graph is built from for a local run into `home`."""
  from tfx import v1 as tfx  # pylint: disable=import-outside-toplevel
  check_local(settings)
  data = settings.data
  pipeline_name = settings.dataset.pipeline_name
  return PipelineSettings(
      run=settings, pipeline_name=pipeline_name, pipeline_root=str(home.pipeline_root),
      serving_model_dir=str(home.serving_models(pipeline_name)),
      schema_path=settings.dataset.schema_path, data_root=data.data_root,
      input_pattern=data.files_pattern,
      metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
          str(home.metadata)))


def run_graph(pipeline: PipelineSettings) -> None:
  """Runs the graph with LocalDagRunner, and nothing around it (the tfx CLI's entry file)."""
  # pylint: disable=import-outside-toplevel
  from tfx import v1 as tfx
  from pipeline import graph
  tfx.orchestration.LocalDagRunner().run(graph.create_pipeline(pipeline))


class LocalEngine:
  name = NAME
  help = 'LocalDagRunner on this machine (SQLite MLMD store, Beam DirectRunner)'

  def add_arguments(self, parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--force', action='store_true',
                        help='local: run even when the data, settings and code are those of the '
                        'last successful run (steps then come from the cache)')

  def run_source(self, home: PipelineHome) -> local_store.MlmdSource:
    return local_store.MlmdSource(home.metadata)

  def run(self, settings: RunSettings, home: PipelineHome, environment: Environment,
          args: argparse.Namespace, print_line: console.PrintLine,
          write_report: ReportWriter) -> RunSummary:
    """Runs the pipeline; never raises for a failed run: the summary says what failed.

    Unless --force, a run whose data, settings and code are those of the pipeline's last
    successful run does nothing and says so.
    """
    del environment  # A local run needs nothing beyond the settings and the home.
    check_local(settings)  # Before the lock: a refused setting writes nothing.
    for flag in ('param', 'failure_policy'):
      if getattr(args, flag, None):
        raise SettingsError(f'--{flag.replace("_", "-")} applies to a compiled Vertex spec '
                            '(--engine vertex-local or vertex), not to LocalDagRunner')
    pipeline = settings.dataset.pipeline_name
    with lock.exclusive_run(home):
      details = {'engine': NAME, 'pipeline': pipeline, 'dataset': settings.dataset.name,
                 'task': settings.dataset.task,
                 'data_root': settings.data.data_root, 'schema': settings.dataset.schema_path,
                 'input_fingerprint': _fingerprint(settings)}
      print_line(f'pipeline {pipeline} (dataset {settings.dataset.name}, '
                 f'{settings.dataset.task}): data {settings.data.data_root}')
      # --no-cache asks for every step to run: never "nothing new".
      forced = getattr(args, 'force', False) or not settings.enable_cache
      previous = None if forced else fingerprint.last_success_if_unchanged(
          home, pipeline, details['input_fingerprint'])
      if previous is not None:
        return _nothing_new(previous, details, home, print_line, write_report)
      return _run(settings, home, details, print_line, write_report)


def _fingerprint(settings: RunSettings) -> str:
  text = json.dumps(dataclasses.asdict(settings), sort_keys=True, default=str)
  return fingerprint.input_fingerprint(text, settings.data.data_root or '',
                                       files=[settings.dataset.schema_path])


def _nothing_new(previous, details, home, print_line, write_report) -> RunSummary:
  summary = RunSummary(status='succeeded', log_file=None, blessed=previous.get('blessed'),
                       metrics=previous.get('metrics', {}), details=dict(details, nothing_new=True))
  if previous.get(baseline.KEY):  # The model beside the baselines: the last run's, unchanged.
    summary.details[baseline.KEY] = previous[baseline.KEY]
  print_line(f'nothing new: no new data, and the settings and code are those of the last '
             f'successful run ({previous.get("finished", "earlier")}); nothing re-run, '
             're-evaluated or pushed (python -m pipeline run --force runs anyway)')
  return finish(summary, home, print_line, write_report)


def _run(settings: RunSettings, home: PipelineHome, details, print_line,
         write_report) -> RunSummary:
  log_file = home.new_log_file()
  summary = RunSummary(status='failed', log_file=str(log_file), details=details)
  print_line(f'  home {home.root}; TF/Beam logs in {log_file}')
  with console.output_to_log_file(log_file) as print_progress:
    # Inside the log redirect: resolving spans imports TensorFlow, whose start-up chatter
    # belongs in the log file.
    try:
      precheck.check_data_root(settings.data.data_root, settings.dataset,
                               input_pattern=settings.data.files_pattern,
                               source=settings.data.source)
    except precheck.DataCheckError as error:
      summary.error = str(error)
      # fd 1 is the log file here: the log says why the run stopped, as the console does.
      print(f'the data pre-check refused the run before any component ran:\n{error}',
            flush=True)
      return finish(summary, home, print_progress, write_report)
    tracker = local_progress.ComponentProgress(print_progress)
    console.absl_logger().addHandler(tracker)
    try:
      pipeline = pipeline_settings(settings, home)
      run_graph(pipeline)
      summary.status = 'succeeded'
    except Exception as error:  # pylint: disable=broad-except; any component failure ends here
      failed = tracker.mark_failed() or 'the pipeline'
      traceback.print_exc()  # Into the log file.
      summary.error = f'{failed} failed: {type(error).__name__}: {error}'
    finally:
      console.absl_logger().removeHandler(tracker)
    summary.components = tracker.components
    local_store.fill_summary(summary, home.metadata, settings.dataset.pipeline_name)
    add_task_metrics(summary, settings.dataset)
  return finish(summary, home, print_line, write_report)


ENGINE = LocalEngine()
