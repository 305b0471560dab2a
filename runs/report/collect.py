"""Builds the report page of one run from its summary (last_run.json's content) and its record
in the engine's store (sources.py).

Each section is read on its own: a file that cannot be read costs that section only, and the
page says what is missing and why, because a report of a broken run matters most.
"""

import datetime
import json
from pathlib import Path
from typing import Callable, List, Optional, Tuple

from google.protobuf.message import DecodeError

from core import data_quality
from core.names import SCHEMA_FILE
from runs.report import data_view
from runs.report import eval_readers
from runs.report import evaluation_figures
from runs.report import figures
from runs.report import image_grid
from runs.report import model_view
from runs.report import readers
from runs.report.html import Page
from runs.report.record import RunRecord

_UNREADABLE = (readers.ReportDataError, DecodeError, OSError, ValueError)
_EXAMPLE_GENS = ('CsvExampleGen', 'ImportExampleGen', 'BigQueryExampleGen', 'ImageExampleGen')


def build_page(summary: dict, record: Optional[RunRecord], source_note: Optional[str] = None,
               pipeline_home: Optional[Path] = None, source=None) -> Page:
  """`source` (sources.py), when given, finds an unchanged model's earlier evaluation."""
  page = Page(summary=summary, facts=run_facts(summary, record, pipeline_home),
              steps=model_view.timeline(summary, record), source_note=source_note)
  _guarded(page, 'timeline', lambda: setattr(page, 'timeline_svg', figures.timeline(page.steps)))
  if record is not None:
    schema = _schema(page, record)
    _guarded(page, 'data statistics', lambda: _data(page, record, schema))
    _guarded(page, 'validation', lambda: _validation(page, record, schema))
    _guarded(page, 'training', lambda: _training(page, record))
    _guarded(page, 'evaluation', lambda: _evaluation(page, record, source))
  return page


def _guarded(page: Page, what: str, step: Callable[[], None]) -> None:
  try:
    step()
  except _UNREADABLE as error:
    page.problems.append(f'{what}: {type(error).__name__}: {error}')


def run_facts(summary: dict, record: Optional[RunRecord],
              pipeline_home: Optional[Path]) -> List[Tuple[str, str]]:
  engine = summary.get('engine') or 'local'
  facts = [('status', summary.get('status') or 'unknown'), ('engine', engine)]
  if record is not None:
    facts.append(('figures from run' if summary.get('nothing_new') else 'run id',
                  record.run_id))
    if record.started:
      started = datetime.datetime.fromtimestamp(record.started)
      facts.append(('that run started' if summary.get('nothing_new') else 'started',
                    started.isoformat(sep=' ', timespec='seconds')))
  if summary.get('finished'):
    facts.append(('finished', summary['finished'].replace('T', ' ')))
  data_root, span, pattern = _data_facts(summary, record)
  # The run's own record first (a run the pre-check refused has only its summary's).
  data_root = data_root or summary.get('data_root')
  facts.append(('data root', data_root or ('not recorded (no component ran)' if record is None
                                            else 'not recorded')))
  if pattern:
    facts.append(('input pattern', pattern))
  if span is not None:
    facts.append(('span', str(span)))
  if engine == 'vertex-local':
    spec = summary.get('spec') or ''
    facts.append(('spec', spec or 'not recorded'))
    name = Path(spec).stem
    profile = summary.get('profile') or (name[len('pipeline-'):] if name.startswith(
        'pipeline-') else None)
    if profile:
      facts.append(('profile', profile))
  facts.append(('blessed', str(summary.get('blessed'))))
  facts.append(('pushed model', summary.get('pushed_model') or 'none'))
  if summary.get('latest_pushed_model') and not summary.get('pushed_model'):
    facts.append(('latest pushed model', summary['latest_pushed_model']))
  if summary.get('log_file'):
    facts.append(('log file', summary['log_file']))
  if pipeline_home is not None:
    facts.append(('pipeline home', str(pipeline_home)))
  return facts


def _data_facts(summary: dict, record: Optional[RunRecord]):
  data_root = pattern = span = None
  for item in summary.get('substitutions') or []:  # the local Vertex engine's DATA_ROOT
    if item.get('kind') == 'data_root':
      data_root = item.get('local')
  if record is None:
    return data_root, span, pattern
  for node in _EXAMPLE_GENS:
    parameters = record.parameters.get(node, {})
    data_root = data_root or parameters.get('input_base')
    try:
      splits = json.loads(parameters.get('input_config') or '{}').get('splits', [])
    except json.JSONDecodeError:
      splits = []
    if any('{SPAN}' in s.get('pattern', '') or '{VERSION}' in s.get('pattern', '')
           for s in splits):
      pattern = ', '.join(s['pattern'] for s in splits)
    examples = record.output(node, 'Examples')
    if examples is not None and pattern:
      span = examples.properties.get('span')
  return data_root, span, pattern


def _data(page: Page, record: RunRecord, schema) -> None:
  for node in _EXAMPLE_GENS:
    examples = record.output(node, 'Examples')
    if examples is not None:
      page.data_quality = data_quality.from_property(
          examples.properties.get(data_quality.PROPERTY))
  statistics = record.output('StatisticsGen', 'ExampleStatistics')
  if statistics is None:
    return
  stats = readers.split_statistics(statistics.uri)
  page.split_sizes = {split: dataset.num_examples for split, dataset in stats.items()}
  page.features = data_view.features(stats, schema)
  page.feature_svgs = figures.all_features(page.features)


def _schema(page: Page, record: RunRecord):
  """The schema the run validated against (ImportSchemaGen's copy), else its dataset's curated
  schema (the summary's `schema`); None (and a note on the page) when neither reads."""
  imported = record.output('ImportSchemaGen', 'Schema')
  path = Path(imported.uri) / SCHEMA_FILE if imported else None
  if path is None or not path.exists():
    path = page.summary.get('schema')
    if not path:
      page.problems.append('schema: the run\'s imported schema was not found, and its summary '
                           'names no dataset schema: statistics are shown without expectations')
      return None
    page.problems.append(f'the run\'s imported schema was not found; using its dataset\'s '
                         f'curated schema {path}')
  try:
    return readers.load_schema(path)
  except _UNREADABLE as error:
    page.problems.append(f'schema: {type(error).__name__}: {error}')
    return None


def _validation(page: Page, record: RunRecord, schema) -> None:
  anomalies = record.output('ExampleValidator', 'ExampleAnomalies')
  page.validated = anomalies is not None
  by_split = readers.split_anomalies(anomalies.uri) if anomalies else {}
  page.anomalies = data_view.anomalies(by_split, page.summary.get('error'))
  statistics = record.output('StatisticsGen', 'ExampleStatistics')
  if statistics is None:
    return
  current = readers.split_statistics(statistics.uri).get('train')
  baseline_artifact = record.input('AnomaliesGate', 'baseline_statistics')
  baseline = (readers.split_statistics(baseline_artifact.uri).get('train')
              if baseline_artifact else None)
  page.drift = data_view.drift(current, baseline if current else None, schema)
  if baseline_artifact is None:
    page.drift_note = ('No baseline: no earlier data had passed the AnomaliesGate (or the gate '
                       'did not run), so drift was not measured; the thresholds are shown.')
  else:
    page.drift_note = (f'L-infinity distance of the train split\'s value shares from the last '
                       f'data the AnomaliesGate accepted ({baseline_artifact.uri}), computed '
                       'as TFDV does; the gate fails the run above the threshold.')
    page.drift_svg = figures.drift(page.drift)


def _training(page: Page, record: RunRecord) -> None:
  tuner_results = record.output('Tuner', 'TunerResults')
  if tuner_results is not None:
    page.tuner_trials = readers.tuner_trials(tuner_results.uri)
  model_run = record.output('Trainer', 'ModelRun')
  if model_run is None:
    return
  page.training = model_view.training(readers.scalars(model_run.uri),
                                      record.parameters.get('Trainer', {}))
  if page.training is not None:
    page.training_svgs = {name: figures.metric_lines(name, series, page.training.axis)
                          for name, series in page.training.metrics.items()}
    page.wait_svg = figures.wait_share(page.training.wait_shares,
                                       page.training.input_bound_epochs)


def _evaluation(page: Page, record: RunRecord, source) -> None:
  evaluation = record.output('Evaluator', 'ModelEvaluation')
  blessing = record.output('Evaluator', 'ModelBlessing')
  if evaluation is None and blessing is None:
    return
  uri = evaluation.uri if evaluation else ''
  metrics = readers.eval_metrics(uri)
  earlier = None
  model = blessing.properties.get('current_model') if blessing else None
  if source is not None and model and not metrics:
    earlier = source.evaluation_of(model)  # the model was unchanged: not evaluated this run
    if earlier:
      uri = earlier[1].uri
      metrics = readers.eval_metrics(uri)
  summary = page.summary
  blessed = summary.get('blessed')
  if blessed is None and blessing is not None and 'blessed' in blessing.properties:
    blessed = blessing.properties['blessed'] == 1
  page.evaluation = model_view.evaluation(summary, metrics, readers.eval_config(uri), blessed,
                                          summary.get('pushed_model'))
  if earlier:
    page.evaluation.notes.append(f'the figures below are from run {earlier[0]}, which '
                                 f'evaluated this same model ({model})')
  page.evaluation_svg = figures.evaluation(page.evaluation.rows)
  _task_figures(page, record, uri, {m.name: m.value for m in metrics if m.slice == 'Overall'
                                    and not m.is_diff and m.model != 'baseline'})


def _task_figures(page: Page, record: RunRecord, uri: str, overall: dict) -> None:
  """The task's own figures, whichever the evaluation holds: the confusion matrix and ROC curve
  (whole eval split, from the Evaluator), the regression's predicted-vs-actual and residuals
  (the Trainer's sample of the eval split)."""
  confusion = page.summary.get('confusion_matrix') if not earlier_run(page) else None
  if confusion is None:
    found = eval_readers.confusion_matrix(uri)
    if found is not None:
      confusion = {'classes': [str(i) for i in range(len(found.matrix))], 'matrix': found.matrix,
                   'threshold': found.threshold}
  if confusion:
    decided = ('the top class' if confusion.get('threshold') is None else
               f'threshold {confusion["threshold"]:g}')
    page.task_svgs.append(evaluation_figures.confusion_matrix(
        confusion['classes'], confusion['matrix'], f'confusion matrix ({decided})'))
  roc = eval_readers.roc_curve(uri)
  if roc:
    page.task_svgs.append(evaluation_figures.roc_curve(roc, overall.get('auc')))
  if page.task_svgs:
    page.task_notes.append('Computed by the Evaluator over the whole eval split.')
  model_run = record.output('Trainer', 'ModelRun')
  sample = eval_readers.prediction_sample(model_run.uri) if model_run else None
  if sample and sample.get('kind') == eval_readers.IMAGE_SAMPLE:
    page.image_grid = image_grid.grid(sample, (confusion or {}).get('classes') or ())
  elif sample and sample.get('labels'):
    page.task_svgs += [evaluation_figures.predicted_vs_actual(sample['labels'],
                                                              sample['predictions']),
                       evaluation_figures.residuals(sample['labels'], sample['predictions'])]
    page.task_notes.append(f'Predicted vs actual and residuals: {sample.get("scope")}; the '
                           'metrics above cover the whole eval split.')


def earlier_run(page: Page) -> bool:
  """Whether the evaluation shown is another run's (the summary's figures are not its)."""
  return any(note.startswith('the figures below are from run')
             for note in page.evaluation.notes)
