"""Small artifacts as the pipeline writes them, and both engines' stores pointing at them.

Statistics, anomalies and the schema are tensorflow_metadata protos; the training logs are
real TensorBoard event files written with tf.summary; the evaluation is TFMA's metrics records
and eval_config.json. Artifacts live under `<home>/pipeline_root/<Node>/<key>/<id>`, as
LocalDagRunner lays them out.
"""

import json
import shutil
from pathlib import Path
from typing import Dict, Optional

from tensorflow_metadata.proto.v0 import anomalies_pb2
from tensorflow_metadata.proto.v0 import statistics_pb2

import datadefs
from runs.report import readers

# The taxi dataset's curated schema: the schema the fixtures' run validated against.
TAXI_SCHEMA = Path(datadefs.load('taxi').schema_path)

RUN_ID = 'chicago-taxi-20261129120000000000'
EARLIER_RUN_ID = 'chicago-taxi-20261128120000000000'


def feature_stats(num_examples: int, companies: Dict[str, int], fares=(1.0, 5.0, 9.0)):
  """A split's statistics: fare (numeric, with a histogram), company (categorical), and
  pickup_census_tract with no values at all."""
  dataset = statistics_pb2.DatasetFeatureStatistics(num_examples=num_examples)
  fare = dataset.features.add(type=statistics_pb2.FeatureNameStatistics.FLOAT)
  fare.path.step.append('fare')
  fare.num_stats.common_stats.num_non_missing = num_examples - 1
  fare.num_stats.common_stats.num_missing = 1
  fare.num_stats.common_stats.max_num_values = 1
  fare.num_stats.common_stats.tot_num_values = num_examples - 1
  fare.num_stats.mean, fare.num_stats.min, fare.num_stats.max = 5.0, fares[0], fares[-1]
  histogram = fare.num_stats.histograms.add(type=statistics_pb2.Histogram.STANDARD)
  for low, high in zip(fares, fares[1:]):
    histogram.buckets.add(low_value=low, high_value=high, sample_count=(num_examples - 1) / 2)
  company = dataset.features.add(type=statistics_pb2.FeatureNameStatistics.STRING)
  company.path.step.append('company')
  company.string_stats.common_stats.num_non_missing = num_examples
  company.string_stats.common_stats.max_num_values = 1
  company.string_stats.common_stats.tot_num_values = num_examples
  company.string_stats.unique = len(companies)
  for rank, (value, count) in enumerate(sorted(companies.items(), key=lambda i: -i[1])):
    company.string_stats.top_values.add(value=value, frequency=count)
    company.string_stats.rank_histogram.buckets.add(low_rank=rank, high_rank=rank, label=value,
                                                    sample_count=count)
  tract = dataset.features.add(type=statistics_pb2.FeatureNameStatistics.INT)
  tract.path.step.append('pickup_census_tract')
  return statistics_pb2.DatasetFeatureStatisticsList(datasets=[dataset])


def write_statistics(uri: Path, companies_by_split: Dict[str, Dict[str, int]]) -> Path:
  for split, companies in companies_by_split.items():
    folder = uri / f'Split-{split}'
    folder.mkdir(parents=True, exist_ok=True)
    stats = feature_stats(sum(companies.values()), companies)
    (folder / readers.STATS_FILE).write_bytes(stats.SerializeToString())
  return uri


def write_anomalies(uri: Path, unexpected: bool) -> Path:
  for split in ('train', 'eval'):
    folder = uri / f'Split-{split}'
    folder.mkdir(parents=True, exist_ok=True)
    found = anomalies_pb2.Anomalies()
    if unexpected:
      info = found.anomaly_info['company']
      info.reason.add(type=anomalies_pb2.AnomalyInfo.ENUM_TYPE_UNEXPECTED_STRING_VALUES,
                      description='Examples contain values missing from the schema: Bogus <Cab>.')
    (folder / readers.SCHEMA_DIFF_FILE).write_bytes(found.SerializeToString())
  return uri


def write_events(run_dir: Path, wait_share: float = 0.05,
                 input_share: Optional[float] = 0.1) -> Path:
  """Keras' TensorBoard layout (train/, validation/) and the input monitor's input/
  (`input_share`: the input alone's time per batch as a share of a step; None: a run from
  before the monitor timed it)."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from trainer import input_verdict  # pylint: disable=import-outside-toplevel
  for group, losses in (('train', (0.6, 0.4)), ('validation', (0.65, 0.5))):
    with tf.summary.create_file_writer(str(run_dir / group)).as_default():
      for epoch, loss in enumerate(losses):
        tf.summary.scalar('epoch_loss', loss, step=epoch)
        tf.summary.scalar('epoch_binary_accuracy', 1.0 - loss, step=epoch)
  with tf.summary.create_file_writer(str(run_dir / 'input')).as_default():
    for epoch in range(2):
      tf.summary.scalar('input/wait_share', wait_share, step=epoch)
      tf.summary.scalar('input/step_seconds', 0.004, step=epoch)
      tf.summary.scalar('input/compute_seconds', 0.004 * (1 - wait_share), step=epoch)
      if input_share is not None:
        tf.summary.scalar('input/input_seconds', 0.004 * input_share, step=epoch)
        report = input_verdict.InputReport(epoch, 10, 0.004, 0.004 * (1 - wait_share),
                                           0.004 * input_share)
        tf.summary.scalar('input/verdict', input_verdict.VERDICT_CODES[report.verdict],
                          step=epoch)
  return run_dir


def write_evaluation(uri: Path, with_baseline: bool = True, accuracy: float = 0.8) -> Path:
  """TFMA's metrics records (overall slice and one trip_start_hour slice) and eval_config."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  proto = readers.tfma_proto()
  uri.mkdir(parents=True, exist_ok=True)
  with tf.io.TFRecordWriter(str(uri / 'metrics-00000-of-00001.tfrecord')) as writer:
    for hour in (None, 8):
      for_slice = proto.MetricsForSlice()
      if hour is not None:
        for_slice.slice_key.single_slice_keys.add(column='trip_start_hour', int64_value=hour)
      values = [('candidate' if with_baseline else '', False, 'binary_accuracy', accuracy),
                ('candidate' if with_baseline else '', False, 'auc', 0.9)]
      if with_baseline:
        values += [('baseline', False, 'binary_accuracy', 0.75),
                   ('candidate', True, 'binary_accuracy', accuracy - 0.75)]
      for model, is_diff, name, value in values:
        item = for_slice.metric_keys_and_values.add()
        item.key.name, item.key.model_name, item.key.is_diff = name, model, is_diff
        item.value.double_value.value = value
      if hour is None:  # ConfusionMatrixAtThresholds at 0.5, over the whole split
        item = for_slice.metric_keys_and_values.add()
        item.key.name = 'confusion_matrix_at_thresholds'
        item.key.model_name = 'candidate' if with_baseline else ''
        item.value.confusion_matrix_at_thresholds.matrices.add(
            threshold=0.5, true_negatives=70, false_positives=10, false_negatives=10,
            true_positives=10)
      writer.write(for_slice.SerializeToString())
  with tf.io.TFRecordWriter(str(uri / 'plots-00000-of-00001.tfrecord')) as writer:
    plots = proto.PlotsForSlice()  # ConfusionMatrixPlot: the ROC curve's points
    item = plots.plot_keys_and_values.add()
    item.key.name, item.key.model_name = 'confusion_matrix_plot', ('candidate' if with_baseline
                                                                    else '')
    for threshold, fpr, tpr in ((0.0, 1.0, 1.0), (0.5, 0.125, 0.5), (1.0, 0.0, 0.0)):
      item.value.confusion_matrix_at_thresholds.matrices.add(
          threshold=threshold, false_positive_rate=fpr, recall=tpr)
    writer.write(plots.SerializeToString())
  threshold = {'valueThreshold': {'lowerBound': 0.6}}
  if with_baseline:
    threshold['changeThreshold'] = {'direction': 'HIGHER_IS_BETTER', 'absolute': -1e-10}
  config = {'slicingSpecs': [{}, {'featureKeys': ['trip_start_hour']}], 'metricsSpecs': [{
      'metrics': [{'className': 'AUC'}, {'className': 'BinaryAccuracy', 'threshold': threshold}]
  }]}
  (uri / readers.EVAL_CONFIG_FILE).write_text(json.dumps({'evalConfig': config}))
  return uri


def artifacts(root: Path) -> Dict[str, Path]:
  """Every artifact a successful run writes that the report reads, under `root`."""
  uris = {
      'statistics': write_statistics(root / 'StatisticsGen' / 'statistics' / '5', {
          'train': {'Taxi Affiliation Services': 60, 'Flash Cab': 40},
          'eval': {'Taxi Affiliation Services': 30, 'Flash Cab': 20}}),
      'baseline': write_statistics(root / 'AnomaliesGate' / 'validated_statistics' / '1', {
          'train': {'Taxi Affiliation Services': 90, 'Flash Cab': 10}}),
      'anomalies': write_anomalies(root / 'ExampleValidator' / 'anomalies' / '6', False),
      'schema': root / 'ImportSchemaGen' / 'schema' / '2',
      'model_run': write_events(root / 'Trainer' / 'model_run' / '10'),
      'evaluation': write_evaluation(root / 'Evaluator' / 'evaluation' / '11'),
      'blessing': root / 'Evaluator' / 'blessing' / '11',
      'pushed_model': root / 'Pusher' / 'pushed_model' / '12',
      'examples': root / 'CsvExampleGen' / 'examples' / '4',
  }
  uris['examples'].mkdir(parents=True)
  uris['schema'].mkdir(parents=True)
  shutil.copy(TAXI_SCHEMA, uris['schema'] / readers.SCHEMA_FILE)
  uris['blessing'].mkdir(parents=True)
  uris['pushed_model'].mkdir(parents=True)
  return uris


# (producer, output key, artifact type, artifacts() key, properties)
# The ExampleGen's counts (core/data_quality.py): 2 of 152 rows without a label.
DATA_QUALITY = json.dumps({'label_columns': ['tips'], 'splits': {
    'train': {'rows': 101, 'rows_without_label': 1,
              'missing': {'tips': 1, 'company': 40, 'pickup_census_tract': 101, 'fare': 0}},
    'eval': {'rows': 51, 'rows_without_label': 1,
             'missing': {'tips': 1, 'company': 20, 'pickup_census_tract': 51, 'fare': 0}}}})
OUTPUTS = [
    ('CsvExampleGen', 'examples', 'Examples', 'examples', {'data_quality': DATA_QUALITY}),
    ('ImportSchemaGen', 'schema', 'Schema', 'schema', {}),
    ('StatisticsGen', 'statistics', 'ExampleStatistics', 'statistics', {}),
    ('ExampleValidator', 'anomalies', 'ExampleAnomalies', 'anomalies', {}),
    ('Trainer', 'model_run', 'ModelRun', 'model_run', {}),
    ('Evaluator', 'evaluation', 'ModelEvaluation', 'evaluation', {}),
    ('Evaluator', 'blessing', 'ModelBlessing', 'blessing',
     {'blessed': 1, 'current_model': '/home/pipeline_root/Trainer/model/10'}),
    ('Pusher', 'pushed_model', 'PushedModel', 'pushed_model',
     {'pushed': 1, 'pushed_destination': '/serving/chicago-taxi/1795988073'}),
]


def summary(**overrides) -> dict:
  """A successful run's last_run.json."""
  value = {
      'status': 'succeeded', 'error': None, 'blessed': True, 'engine': 'local',
      'pushed_model': '/serving/chicago-taxi/1795988073', 'finished': '2026-11-29T12:03:00',
      'metrics': {'binary_accuracy': 0.8, 'auc': 0.9, 'binary_accuracy_diff': 0.05},
      'components': [{'name': name, 'seconds': seconds, 'cached': cached} for name, seconds,
                     cached in (('CsvExampleGen', 3.1, False), ('StatisticsGen', 3.6, False),
                                ('latest_validated_statistics_resolver', 0.0, False),
                                ('ExampleValidator', 0.1, False), ('AnomaliesGate', 0.1, False),
                                ('Transform', 52.7, True), ('Trainer', 33.7, False),
                                ('Evaluator', 19.1, False), ('Pusher', 0.1, False))],
      'log_file': '/home/logs/run-1.log',
      'pipeline': 'chicago-taxi', 'dataset': 'taxi', 'schema': str(TAXI_SCHEMA),
  }
  value.update(overrides)
  return value
