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

from core import data_quality
from core.home import PipelineHome
from datadefs.definition import Dataset
from runs import baseline
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
  # The Evaluator's output this run's metrics come from (not written to last_run.json).
  evaluation_uri: Optional[str] = None

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


def add_task_metrics(summary: RunSummary, dataset: Dataset) -> None:
  """What the run's task adds to the Evaluator's metrics (datadefs/tasks.py): metrics derived
  exactly from them (a regression's RMSE), the model beside the dataset's baselines
  (runs/baseline.py: `baseline`, and `not_blessed_reason`), and the confusion matrix over the whole eval split
  (`confusion_matrix` in last_run.json: class names, counts by actual (rows) and predicted
  class (columns), the decision threshold)."""
  task = dataset.task_kind
  summary.metrics.update(task.derived_metrics(summary.metrics))
  baseline.record(summary.details, summary.metrics, summary.blessed, dataset)
  if not summary.evaluation_uri:
    return
  from runs.report import eval_readers  # pylint: disable=import-outside-toplevel
  found = eval_readers.confusion_matrix(summary.evaluation_uri)
  if found is not None:
    names = list(task.class_names(dataset.label.classes))
    if len(names) != len(found.matrix):
      names = [str(index) for index in range(len(found.matrix))]
    summary.details['confusion_matrix'] = {'classes': names, 'matrix': found.matrix,
                                           'threshold': found.threshold}
  if dataset.kind_info.slices_by_class:
    per_class = class_accuracy(summary.evaluation_uri, dataset)
    if per_class['classes']:
      summary.details['per_class_accuracy'] = per_class


def class_accuracy(evaluation_uri: str, dataset: Dataset) -> Dict[str, List[Any]]:
  """{'classes', 'accuracy', 'examples'}: the candidate model's accuracy and eval examples per
  class, from the Evaluator's slices of the label column (pipeline/graph.py eval_config), in
  the definition's class order (lists: last_run.json sorts its keys); a class absent from the
  eval split is left out."""
  from runs.report import readers  # pylint: disable=import-outside-toplevel
  metric, column = dataset.task_kind.blessing_metric, dataset.label.column
  found: Dict[str, Dict[str, float]] = {}
  for item in readers.eval_metrics(evaluation_uri):
    name, _, value = item.slice.partition('=')
    if name != column or item.model == 'baseline' or item.is_diff:
      continue
    if item.name == metric:
      found.setdefault(value, {})['accuracy'] = item.value
    elif item.name == 'example_count':
      found.setdefault(value, {})['examples'] = item.value
  order = [str(name) for name in dataset.label.classes]
  names = [name for name in sorted(
      found, key=lambda n: (order.index(n) if n in order else len(order), n))
           if 'accuracy' in found[name]]
  return {'classes': names, 'accuracy': [found[name]['accuracy'] for name in names],
          'examples': [found[name].get('examples') for name in names]}


def class_accuracy_lines(per_class: Dict[str, List[Any]], most: int = 20) -> List[str]:
  """The console's accuracy per class (whole eval split), the least accurate first."""
  ranked = sorted(zip(per_class['classes'], per_class['accuracy'], per_class['examples']),
                  key=lambda item: item[1])
  shown = ', '.join(f'{name} {accuracy:.3f}' + (f' ({examples:.0f})' if examples else '')
                    for name, accuracy, examples in ranked[:most])
  more = f', ... ({len(ranked) - most} more in the report)' if len(ranked) > most else ''
  return [f'accuracy per class (eval examples), least accurate first: {shown}{more}']


def confusion_lines(confusion: Dict[str, Any], most: int = 12) -> List[str]:
  """The console's confusion matrix: rows are the actual class, columns the predicted one."""
  names, matrix = confusion['classes'], confusion['matrix']
  decided = ('the top class' if confusion.get('threshold') is None else
             f'threshold {confusion["threshold"]:g}')
  head = (f'confusion matrix (whole eval split, {decided}; rows: actual, columns: predicted)')
  if len(names) > most:
    return [f'{head}: {len(names)} classes, in the report']
  width = max(8, *(len(str(name)) + 1 for name in names),
              *(len(f'{count:.0f}') + 1 for row in matrix for count in row))
  lines = [head + ':', ' ' * width + ''.join(f'{str(name):>{width}}' for name in names)]
  lines += [f'{str(name):>{width}}' + ''.join(f'{count:>{width}.0f}' for count in row)
            for name, row in zip(names, matrix)]
  return lines


def record_data_quality(summary: RunSummary, property_text: Optional[str]) -> None:
  """Sets last_run.json's `data_quality` from the ExampleGen's Examples artifact property
  (core/data_quality.py): rows read, rows left out without a label, each column's missing
  share, over every row read. Nothing when the property is absent (an older artifact)."""
  quality = data_quality.from_property(property_text)
  if quality is not None:
    summary.details['data_quality'] = data_quality.run_summary(quality)


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
  quality = summary.details.get('data_quality') or {}
  left_out = data_quality.left_out_line(quality)
  if left_out:
    print_line(left_out)
  for line in data_quality.left_out_files_lines(quality):
    print_line(line)
  if summary.status != 'succeeded':
    print_line(f'FAILED: {summary.error}')
    print_line('no model was pushed by this run; earlier pushed models are untouched')
    return
  cached = sum(c.cached for c in summary.components)
  if cached:
    print_line(f'reused cached results for {cached} of {len(summary.components)} components')
  print_line(f'blessed: {summary.blessed}')
  if summary.details.get(baseline.REASON_KEY):
    print_line(summary.details[baseline.REASON_KEY])
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
  baseline_line = baseline.line(summary.details.get(baseline.KEY))
  if baseline_line:
    print_line(baseline_line)
  if summary.details.get('confusion_matrix') and not summary.details.get('nothing_new'):
    for line in confusion_lines(summary.details['confusion_matrix']):
      print_line(line)
  if summary.details.get('per_class_accuracy') and not summary.details.get('nothing_new'):
    for line in class_accuracy_lines(summary.details['per_class_accuracy']):
      print_line(line)
