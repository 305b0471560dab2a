"""A local run as `make run` does it: check the data, run the pipeline with the noise in a log
file, print one line per component and a summary, write last_run.json."""

import datetime
import traceback
from pathlib import Path

from pipeline.local import config as config_lib
from pipeline.local import console
from pipeline.local import nothing_new
from pipeline.local import preflight
from pipeline.local import progress
from pipeline.local import run_lock
from pipeline.local import run_report


def run_and_report(config: config_lib.LocalConfig, print_line: console.PrintLine,
                   force: bool = False) -> run_report.RunSummary:
  """Runs the pipeline; never raises for a failed run: the summary says what failed.

  Unless `force`, a run whose data, settings and code are those of the last successful run does
  nothing and says so (pipeline/local/nothing_new.py).
  Raises run_lock.PipelineBusyError (and writes nothing) when another run uses the same home.
  """
  with run_lock.exclusive_run(config.pipeline_home):
    fingerprint = nothing_new.input_fingerprint(config)
    previous = None if force else nothing_new.last_success_if_unchanged(config, fingerprint)
    print_line(f'pipeline {config.pipeline_name} (dataset {config.dataset.name}, '
               f'{config.dataset.task}): data {config.data_root}')
    if previous is not None:
      return _nothing_new(config, previous, fingerprint, print_line)
    return _run_and_report(config, print_line, fingerprint)


def _nothing_new(config, previous, fingerprint, print_line):
  summary = run_report.RunSummary(
      status='succeeded', log_file=None, blessed=previous.get('blessed'),
      metrics=previous.get('metrics', {}),
      details={'engine': 'local', 'input_fingerprint': fingerprint, 'nothing_new': True})
  print_line(f'nothing new: no new data, and the settings and code are those of the last '
             f'successful run '
             f'({previous.get("finished", "earlier")}); nothing re-run, re-evaluated or pushed '
             '(python -m pipeline run --force runs anyway)')
  return finish(summary, config.last_run_path, print_line)


def _run_and_report(config, print_line, fingerprint):
  log_file = new_log_file(config.log_dir)
  summary = run_report.RunSummary(status='failed', log_file=str(log_file),
                                  details={'engine': 'local', 'input_fingerprint': fingerprint})
  print_line(f'  home {config.pipeline_home}; TF/Beam logs in {log_file}')
  with console.output_to_log_file(log_file) as print_progress:
    # Inside the log redirect: resolving spans imports TensorFlow, whose start-up chatter
    # belongs in the log file.
    try:
      preflight.check_data_root(config.data_root, config.dataset,
                                input_pattern=config.input_pattern,
                                source=config.source)
    except preflight.DataCheckError as error:
      summary.error = str(error)
      return finish(summary, config.last_run_path, print_progress)  # fd 1: the log file.
    tracker = progress.ComponentProgress(print_progress)
    console.absl_logger().addHandler(tracker)
    try:
      # Imported here so TensorFlow's start-up output lands in the log file too.
      from pipeline.local import dag_runner  # pylint: disable=import-outside-toplevel
      dag_runner.run(config)
      summary.status = 'succeeded'
    except Exception as error:  # pylint: disable=broad-except; any component failure ends here
      failed = tracker.mark_failed() or 'the pipeline'
      traceback.print_exc()  # Into the log file.
      summary.error = f'{failed} failed: {type(error).__name__}: {error}'
    finally:
      console.absl_logger().removeHandler(tracker)
    summary.components = tracker.components
    run_report.fill_from_metadata(summary, config.metadata_path, config.pipeline_name)
  return finish(summary, config.last_run_path, print_line)


def new_log_file(log_dir: Path) -> Path:
  """This run's log file, named by its start time (both engines log there)."""
  return log_dir / f'run-{datetime.datetime.now():%Y%m%d-%H%M%S}.log'


def finish(summary: run_report.RunSummary, last_run_path, print_line: console.PrintLine) -> \
    run_report.RunSummary:
  """Writes last_run.json and prints the summary lines (both engines end here)."""
  summary.details['finished'] = datetime.datetime.now().isoformat(timespec='seconds')
  summary.details['latest_pushed_model'] = (
      summary.pushed_model or summary.details.get('latest_pushed_model') or
      run_report.latest_pushed_model(last_run_path))
  try:
    from pipeline.local import report  # pylint: disable=import-outside-toplevel
    summary.details['report'] = str(report.write_report(summary.to_json(), last_run_path.parent))
    report_line = f'report: {summary.details["report"]}'
  except Exception as error:  # pylint: disable=broad-except; a report must never fail a run
    traceback.print_exc()
    summary.details['report'] = None
    report_line = f'report: not written ({type(error).__name__}: {error})'
  summary.write(last_run_path)
  if summary.status == 'succeeded':
    cached = sum(c.cached for c in summary.components)
    if cached:
      print_line(f'reused cached results for {cached} of {len(summary.components)} components')
    print_line(f'blessed: {summary.blessed}')
    if summary.details.get('nothing_new'):
      print_line('pushed model: none (latest pushed: '
                 f'{summary.details.get("latest_pushed_model") or "none"})')
    elif summary.details.get('model_unchanged'):
      print_line('model unchanged: every step up to the Trainer was reused, so nothing was '
                 're-evaluated and nothing pushed')
      print_line('pushed model: none (the model is the one already pushed)')
    else:
      print_line(f'pushed model: {summary.pushed_model or "none (not blessed: nothing pushed)"}')
    if summary.metrics:
      print_line('eval metrics: ' + ', '.join(
          f'{name}={value:.4f}' for name, value in sorted(summary.metrics.items())))
  else:
    print_line(f'FAILED: {summary.error}')
    print_line('no model was pushed by this run; earlier pushed models are untouched')
  print_line(f'summary: {last_run_path}')
  print_line(report_line)
  return summary
