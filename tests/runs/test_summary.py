"""runs/summary.py and core/data_quality.py: what the console and last_run.json say about the
rows read and the task's metrics."""

import json

import datadefs
from core import data_quality
from runs import summary as summary_lib
from runs.report import readers
from runs.summary import RunSummary

_QUALITY = data_quality.to_property({
    'train': data_quality.split_counts(270, 6, {'Miles_per_Gallon': 6, 'Horsepower': 4}),
    'eval': data_quality.split_counts(136, 2, {'Miles_per_Gallon': 2, 'Horsepower': 2}),
}, ['Miles_per_Gallon'], ['Name', 'Miles_per_Gallon', 'Horsepower'])


def test_last_run_gets_the_rows_read_and_left_out_and_the_console_says_so():
  summary = RunSummary(status='succeeded', log_file=None)
  summary_lib.record_data_quality(summary, _QUALITY)
  assert summary.details['data_quality'] == {
      'rows': 406, 'rows_without_label': 8, 'label_columns': ['Miles_per_Gallon'],
      'missing_share': {'Horsepower': round(6 / 406, 6), 'Miles_per_Gallon': round(8 / 406, 6),
                        'Name': 0.0}}
  lines = []
  summary_lib._print_outcome(summary, lines.append)  # pylint: disable=protected-access
  assert lines[0] == ("left out 8 of 406 rows: no 'Miles_per_Gallon' (a row without a label is "
                      'not an example: not trained, tuned or evaluated on)')
  summary_lib.record_data_quality(summary, None)  # an older artifact: nothing to add
  assert summary.details['data_quality']['rows'] == 406
  assert data_quality.flag(1.0) == 'all empty' and data_quality.flag(0.6) == 'mostly empty'
  assert data_quality.flag(0.34) == ''


def test_broken_and_ignored_files_reach_last_run_the_console_and_the_report():
  from runs.report import files_view  # pylint: disable=import-outside-toplevel
  broken = [[f'/data/cat/{index}.jpg', 'empty file'] for index in range(25)]
  quality = data_quality.to_property(
      {'train': data_quality.split_counts(70), 'eval': data_quality.split_counts(30)},
      ['label'], [], left_out_files=broken, ignored_files=['/data/cat/.DS_Store', '/data/x.txt'])
  summary = RunSummary(status='succeeded', log_file=None)
  summary_lib.record_data_quality(summary, quality)
  recorded = summary.details['data_quality']
  assert recorded['files_left_out'] == 25 and recorded['files_ignored'] == 2
  assert recorded['broken_files'][0] == '/data/cat/0.jpg: empty file'
  assert len(recorded['broken_files']) == data_quality.FILES_LISTED
  lines = []
  summary_lib._print_outcome(summary, lines.append)  # pylint: disable=protected-access
  text = '\n'.join(lines)
  assert 'left out 25 broken file(s)' in text and '/data/cat/19.jpg: empty file' in text
  assert '/data/cat/20.jpg' not in text and 'first 20 shown' in text
  assert 'ignored 2 file(s)' in text and '/data/x.txt' in text
  page = files_view.files_section(data_quality.from_property(quality))
  assert '25 broken file(s) were left out' in page and '/data/cat/24.jpg' in page
  assert '.DS_Store' in page
  tabular = data_quality.to_property({'train': data_quality.split_counts(3)}, ['y'], ['y'])
  assert 'files_left_out' not in data_quality.run_summary(data_quality.from_property(tabular))
  assert files_view.files_section(data_quality.from_property(tabular)) == ''


def _evaluation(tmp_path, matrix_entries):
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  proto = readers.tfma_proto()
  plots = proto.PlotsForSlice()
  item = plots.plot_keys_and_values.add()
  item.key.name = 'multi_class_confusion_matrix_plot'
  matrix = item.value.multi_class_confusion_matrix_at_thresholds.matrices.add(threshold=0.0)
  for actual, predicted, count in matrix_entries:
    matrix.entries.add(actual_class_id=actual, predicted_class_id=predicted,
                       num_weighted_examples=count)
  with tf.io.TFRecordWriter(str(tmp_path / 'plots-00000-of-00001.tfrecord')) as writer:
    writer.write(plots.SerializeToString())
  return str(tmp_path)


def test_multiclass_confusion_matrix_by_class_name_printed_and_in_last_run(tmp_path):
  summary = RunSummary(status='succeeded', log_file=None, metrics={
      'sparse_categorical_accuracy': 0.96})
  summary.evaluation_uri = _evaluation(tmp_path, [(0, 0, 60), (0, 1, 2), (1, 1, 25), (2, 2, 50),
                                                  (2, 0, 3)])
  summary_lib.add_task_metrics(summary, datadefs.load('penguins'))
  assert summary.details['confusion_matrix'] == {
      'classes': ['Adelie', 'Chinstrap', 'Gentoo'], 'threshold': None,
      'matrix': [[60, 2, 0], [0, 25, 0], [3, 0, 50]]}
  lines = []
  summary_lib._print_outcome(summary, lines.append)  # pylint: disable=protected-access
  at = lines.index('confusion matrix (whole eval split, the top class; rows: actual, columns: '
                   'predicted):')
  assert [line.split() for line in lines[at + 1:at + 5]] == [
      ['Adelie', 'Chinstrap', 'Gentoo'], ['Adelie', '60', '2', '0'],
      ['Chinstrap', '0', '25', '0'], ['Gentoo', '3', '0', '50']]
  json.dumps(summary.to_json())  # last_run.json stays JSON


def test_regression_gets_rmse_from_the_evaluators_mean_squared_error():
  summary = RunSummary(status='succeeded', log_file=None, metrics={
      'mean_absolute_error': 2.0, 'mean_squared_error': 9.0})
  summary_lib.add_task_metrics(summary, datadefs.load('taxi_fare'))
  assert summary.metrics['root_mean_squared_error'] == 3.0
  assert 'confusion_matrix' not in summary.details


def _not_blessed(accuracy: float, dataset) -> list:
  summary = RunSummary(status='succeeded', log_file=None, blessed=False,
                       metrics={'binary_accuracy': accuracy})
  summary_lib.add_task_metrics(summary, dataset)
  lines = []
  summary_lib._print_outcome(summary, lines.append)  # pylint: disable=protected-access
  json.dumps(summary.to_json())
  return summary.to_json(), lines


def test_the_model_beside_the_naive_baseline_and_the_gbm_and_why_not_blessed():
  import dataclasses  # pylint: disable=import-outside-toplevel
  taxi = datadefs.load('taxi')
  naive, gbm = taxi.baseline.naive, taxi.baseline.gbm
  # A threshold laxer than the naive baseline: the naive score is what the model missed.
  lax = dataclasses.replace(taxi, blessing_threshold=naive / 2)
  below = naive - 0.05
  last_run, lines = _not_blessed(below, lax)
  assert last_run['baseline'] == {'metric': 'binary_accuracy', 'model': below, 'naive': naive,
                                  'gbm': gbm}
  reason = last_run['not_blessed_reason']
  assert reason.startswith(f'not blessed: binary_accuracy {below:.4g} is worse than the naive '
                           f"baseline's {naive:.4g}") and '\n' not in reason
  assert lines[lines.index('blessed: False') + 1] == reason
  assert (f'binary_accuracy: this model {below:.4f}, naive baseline {naive:.4f}, default '
          f'gradient-boosted model {gbm:.4f}') in lines
  # Above the naive baseline but under a stricter threshold: that is the reason.
  strict = dataclasses.replace(taxi, blessing_threshold=0.99)
  last_run, _ = _not_blessed(naive + 0.01, strict)
  assert 'misses the definition\'s blessing_threshold 0.99' in last_run['not_blessed_reason']
  # Blessed, or without a [baseline]: no reason; unknown values are null.
  blessed = RunSummary(status='succeeded', log_file=None, blessed=True)
  summary_lib.add_task_metrics(blessed, dataclasses.replace(taxi, baseline=None))
  assert blessed.to_json()['baseline'] == {'metric': 'binary_accuracy', 'model': None,
                                           'naive': None, 'gbm': None}
  assert 'not_blessed_reason' not in blessed.to_json()


def _sliced_metrics(tmp_path, rows):
  """An Evaluator output's metrics file: (label value or None for Overall, model, diff,
  {metric: value}) per row."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  proto = readers.tfma_proto()
  with tf.io.TFRecordWriter(str(tmp_path / 'metrics-00000-of-00001.tfrecord')) as writer:
    for label, model, diff, values in rows:
      for_slice = proto.MetricsForSlice()
      if label is not None:
        for_slice.slice_key.single_slice_keys.add(column='label', bytes_value=label.encode())
      for name, value in values.items():
        item = for_slice.metric_keys_and_values.add()
        item.key.name, item.key.model_name, item.key.is_diff = name, model, diff
        item.value.double_value.value = value
      writer.write(for_slice.SerializeToString())
  return str(tmp_path)


def test_an_image_datasets_accuracy_per_class_is_printed_and_in_last_run(tmp_path):
  accuracy = 'sparse_categorical_accuracy'
  summary = RunSummary(status='succeeded', log_file=None, metrics={accuracy: 0.96})
  summary.evaluation_uri = _sliced_metrics(tmp_path, [
      (None, '', False, {accuracy: 0.96, 'example_count': 90}),
      ('two', '', False, {accuracy: 1.0, 'example_count': 30}),
      ('two', '', True, {accuracy: -0.5}),  # a difference from the baseline: not a class's
      ('eight', '', False, {accuracy: 0.8, 'example_count': 25}),
      ('zero', 'baseline', False, {accuracy: 0.1, 'example_count': 35}),
      ('zero', '', False, {accuracy: 0.9, 'example_count': 35})])
  summary_lib.add_task_metrics(summary, datadefs.load('digits'))
  # The definition's order, kept through last_run.json (whose keys are sorted).
  per_class = json.loads(json.dumps(summary.to_json(), sort_keys=True))['per_class_accuracy']
  assert per_class == {'classes': ['zero', 'two', 'eight'], 'accuracy': [0.9, 1.0, 0.8],
                       'examples': [35, 30, 25]}
  lines = []
  summary_lib._print_outcome(summary, lines.append)  # pylint: disable=protected-access
  [line] = [line for line in lines if line.startswith('accuracy per class')]
  assert line.index('eight 0.800 (25)') < line.index('zero 0.900') < line.index('two 1.000')
  json.dumps(summary.to_json())


def test_a_table_has_no_accuracy_per_class(tmp_path):
  summary = RunSummary(status='succeeded', log_file=None, metrics={})
  summary.evaluation_uri = _sliced_metrics(tmp_path, [
      ('Adelie', '', False, {'sparse_categorical_accuracy': 1.0})])
  summary_lib.add_task_metrics(summary, datadefs.load('penguins'))
  assert 'per_class_accuracy' not in summary.details
