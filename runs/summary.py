"""What a run did, as printed to the console and written to `<pipeline home>/last_run.json`, the
same for every engine: `finish()` ends every run.

Per-component timing comes from each engine; whether the model was blessed and pushed, and the
eval metrics, from the engine's store (pipeline/engines/local_store.py, vertex_local/engine.py).
"""

import dataclasses
import datetime
import json
import os
import traceback
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from core.home import PipelineHome
from runs import history
from runs.console import PrintLine


# Vertex AI's task states (PipelineTaskDetail.State) of the console's statuses.
STATES = {'ran': 'SUCCEEDED', 'cached': 'SKIPPED', 'failed': 'FAILED',
          'not run': 'NOT_TRIGGERED', 'cancelled': 'CANCELLED'}


@dataclasses.dataclass
class ComponentRun:
  name: str
  seconds: float
  cached: bool
  # 'ran', 'cached', 'failed', 'not run' (an upstream task failed, or the run failed fast) or
  # 'cancelled'.
  status: str
  state: Optional[str] = None  # Vertex's name of `status` (STATES); None: STATES[status]
  error: Optional[str] = None  # why it failed or did not run

  def __post_init__(self):
    if self.state is None:
      self.state = STATES.get(self.status)


@dataclasses.dataclass
class RunSummary:
  status: str  # 'succeeded', 'failed' or 'cancelled'
  log_file: Optional[str]
  components: List[ComponentRun] = dataclasses.field(default_factory=list)
  pushed_model: Optional[str] = None
  blessed: Optional[bool] = None
  metrics: Dict[str, float] = dataclasses.field(default_factory=dict)
  error: Optional[str] = None
  # Other keys of last_run.json: the engine, pipeline, dataset, data root, and each engine's own
  # (the local Vertex engine: spec, substitutions, resolved, ...).
  details: Dict[str, Any] = dataclasses.field(default_factory=dict)

  def to_json(self) -> dict:
    return {
        **self.details,
        'status': self.status,
        'pushed_model': self.pushed_model,
        'blessed': self.blessed,
        'metrics': self.metrics,
        'components': [{'name': c.name, 'seconds': round(c.seconds, 3), 'cached': c.cached,
                        'status': c.status, 'state': c.state,
                        **({'error': c.error} if c.error else {})}
                       for c in self.components],
        'log_file': self.log_file,
        'error': self.error,
    }

  def write(self, path: Path) -> None:
    """Writes atomically, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix('.json.tmp')
    tmp.write_text(json.dumps(self.to_json(), indent=2, sort_keys=True) + '\n')
    os.replace(tmp, path)


def eval_metrics(evaluation_uri: str) -> Dict[str, float]:
  """The candidate model's overall metrics in an Evaluator output, {name: value}, and its
  difference from the baseline model as {name + '_diff': value}; {} when nothing was
  evaluated (the candidate was the blessed baseline itself). Read without TFMA."""
  from runs.report import readers  # pylint: disable=import-outside-toplevel
  metrics = {}
  for metric in readers.eval_metrics(evaluation_uri):
    if metric.slice == 'Overall' and metric.model != 'baseline':
      metrics[metric.name + ('_diff' if metric.is_diff else '')] = metric.value
  return metrics


# Writes the run's report.html and returns its path: (last_run.json's content, home) -> path.
ReportWriter = Callable[[dict, PipelineHome], Path]


def finish(summary: RunSummary, home: PipelineHome, print_line: PrintLine,
           write_report: Optional[ReportWriter] = None) -> RunSummary:
  """Ends every run, of every engine: records it in the run history, writes last_run.json and
  the report, and prints the summary lines."""
  summary.details['finished'] = datetime.datetime.now().isoformat(timespec='seconds')
  # The latest model pushed for *this* pipeline: another pipeline may share the home.
  summary.details['latest_pushed_model'] = (
      summary.pushed_model or history.latest_pushed_model(home, summary.details.get('pipeline')))
  report_line = 'report: not written (no report for this engine)'
  if write_report is not None:
    try:
      summary.details['report'] = str(write_report(summary.to_json(), home))
      report_line = f'report: {summary.details["report"]}'
    except Exception as error:  # pylint: disable=broad-except; a report must never fail a run
      traceback.print_exc()
      summary.details['report'] = None
      report_line = f'report: not written ({type(error).__name__}: {error})'
  summary.write(home.last_run)
  history.append(home, summary.to_json())
  _print_outcome(summary, print_line)
  print_line(f'summary: {home.last_run}')
  print_line(report_line)
  return summary


def _print_outcome(summary: RunSummary, print_line: PrintLine) -> None:
  if summary.status != 'succeeded':
    print_line(f'FAILED: {summary.error}')
    print_line('no model was pushed by this run; earlier pushed models are untouched')
    return
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
