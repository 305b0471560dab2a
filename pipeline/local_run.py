"""A local run as `make run` does it: check the data, run the pipeline with the noise in a log
file, print one line per component and a summary, write last_run.json."""

import datetime
import traceback

from pipeline import config as config_lib
from pipeline import console
from pipeline import preflight
from pipeline import progress
from pipeline import run_lock
from pipeline import run_report


def run_and_report(config: config_lib.LocalConfig, print_line: console.PrintLine) -> \
    run_report.RunSummary:
  """Runs the pipeline; never raises for a failed run: the summary says what failed.

  Raises run_lock.PipelineBusyError (and writes nothing) when another run uses the same home.
  """
  with run_lock.exclusive_run(config.pipeline_home):
    return _run_and_report(config, print_line)


def _run_and_report(config, print_line):
  stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S')
  log_file = config.log_dir / f'run-{stamp}.log'
  summary = run_report.RunSummary(status='failed', log_file=str(log_file),
                                  details={'engine': 'local'})
  print_line(f'pipeline {config.pipeline_name}: data {config.data_root}')
  print_line(f'  home {config.pipeline_home}; TF/Beam logs in {log_file}')
  with console.output_to_log_file(log_file) as print_progress:
    # Inside the log redirect: resolving spans imports TensorFlow, whose start-up chatter
    # belongs in the log file.
    try:
      preflight.check_data_root(config.data_root, input_pattern=config.input_pattern,
                                source=config.source)
    except preflight.DataCheckError as error:
      summary.error = str(error)
      return finish(summary, config.last_run_path, print_progress)  # fd 1: the log file.
    tracker = progress.ComponentProgress(print_progress)
    console.absl_logger().addHandler(tracker)
    try:
      # Imported here so TensorFlow's start-up output lands in the log file too.
      from pipeline import local_runner  # pylint: disable=import-outside-toplevel
      local_runner.run(config)
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


def finish(summary: run_report.RunSummary, last_run_path, print_line: console.PrintLine) -> \
    run_report.RunSummary:
  """Writes last_run.json and prints the summary lines (both engines end here)."""
  summary.write(last_run_path)
  if summary.status == 'succeeded':
    cached = sum(c.cached for c in summary.components)
    if cached:
      print_line(f'reused cached results for {cached} of {len(summary.components)} components')
    print_line(f'blessed: {summary.blessed}')
    print_line(f'pushed model: {summary.pushed_model or "none (not blessed: nothing pushed)"}')
    if summary.metrics:
      print_line('eval metrics: ' + ', '.join(
          f'{name}={value:.4f}' for name, value in sorted(summary.metrics.items())))
  else:
    print_line(f'FAILED: {summary.error}')
    print_line('no model was pushed by this run; earlier pushed models are untouched')
  print_line(f'summary: {last_run_path}')
  return summary
