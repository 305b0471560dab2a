"""preprocessing_fn run by TF Transform on Beam over a few in-memory rows: the taxi dataset,
each feature role, and each task's label."""

import functools
import tempfile

import apache_beam as beam
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata
from tensorflow_transform.tf_metadata import schema_utils
import tensorflow_data_validation as tfdv

from datadefs.definition import parse
from tests import taxi
from transform.preprocessing import preprocessing_fn


def _transform(rows, dataset, metadata):
  fn = functools.partial(preprocessing_fn, custom_config=dataset.to_custom_config())
  with tempfile.TemporaryDirectory() as temp_dir, tft_beam.Context(temp_dir=temp_dir):
    (transformed, _), _ = (rows, metadata) | tft_beam.AnalyzeAndTransformDataset(fn)
  return transformed


def _row(**overrides):
  row = {
      'pickup_community_area': [8], 'fare': [10.0], 'trip_start_month': [5],
      'trip_start_hour': [19], 'trip_start_day': [6], 'trip_start_timestamp': [1400269500],
      'pickup_latitude': [41.9], 'pickup_longitude': [-87.6], 'dropoff_latitude': [41.8],
      'dropoff_longitude': [-87.7], 'trip_miles': [2.0], 'pickup_census_tract': [],
      'dropoff_census_tract': [17031081500], 'payment_type': [b'Credit Card'],
      'company': [b'Taxi Affiliation Services'], 'trip_seconds': [600],
      'dropoff_community_area': [32], 'tips': [3.0],
  }
  row.update(overrides)
  return {key: np.array(value) for key, value in row.items()}


ROWS = [
    _row(),  # tips 3.0 > 20% of 10.0: big tipper.
    _row(fare=[20.0], tips=[1.0], payment_type=[b'Cash']),  # Not a big tipper.
    _row(fare=[30.0], tips=[0.0], payment_type=[b'Cash'], trip_start_hour=[99]),  # Clipped hour.
    _row(pickup_latitude=[], company=[], tips=[0.5]),  # Missing values are filled in.
]


@pytest.fixture(scope='module')
def transformed():
  metadata = dataset_metadata.DatasetMetadata(tfdv.load_schema_text(taxi.TAXI.schema_path))
  return _transform(ROWS, taxi.TAXI, metadata)


def test_every_model_feature_and_the_label_are_produced(transformed):
  assert set(transformed[0]) == set(taxi.ALL_FEATURES) | {taxi.LABEL_KEY}
  assert len(transformed) == len(ROWS)


def test_label_expression_says_big_tipper(transformed):
  assert [row['tips_xf'] for row in transformed] == [1, 0, 0, 0]


def test_numeric_features_are_z_scored(transformed):
  fares = np.array([row['fare_xf'] for row in transformed])
  assert abs(fares.mean()) < 1e-5
  assert fares[2] > fares[1] > fares[0]


def test_vocabulary_ids_most_frequent_first(transformed):
  payment_ids = [row['payment_type_xf'] for row in transformed]
  # 'Credit Card' appears twice (rows 0 and 3); tie-breaks are by value, so check consistency.
  assert payment_ids[0] == payment_ids[3]
  assert payment_ids[1] == payment_ids[2] != payment_ids[0]
  assert all(0 <= i < 1000 + 10 for i in payment_ids)


def test_integer_ids_are_clipped_into_range(transformed):
  assert transformed[2]['trip_start_hour_xf'] == 23
  assert transformed[0]['trip_start_hour_xf'] == 19


def test_bucket_ids_in_range(transformed):
  for row in transformed:
    for key in taxi.BUCKETIZED:
      assert 0 <= row[key] < 10


def test_ignored_columns_make_no_feature(transformed):
  assert 'trip_start_timestamp_xf' not in transformed[0]


# A small dataset of every role, and a label per task.
_COLUMNS = {
    'size': {'type': 'float', 'role': 'numeric'},
    'weight': {'type': 'float', 'role': 'bucketized', 'buckets': 3},
    'colour': {'type': 'string', 'role': 'vocabulary', 'top_k': 2, 'oov': 1},
    'grade': {'type': 'int', 'role': 'integer_id', 'num_ids': 3},
    'note': {'type': 'string'},
    'kind': {'type': 'string'}, 'price': {'type': 'float'}, 'sold': {'type': 'int'},
}
_SPEC = {'size': tf.io.VarLenFeature(tf.float32), 'weight': tf.io.VarLenFeature(tf.float32),
         'colour': tf.io.VarLenFeature(tf.string), 'grade': tf.io.VarLenFeature(tf.int64),
         'note': tf.io.VarLenFeature(tf.string), 'kind': tf.io.VarLenFeature(tf.string),
         'price': tf.io.VarLenFeature(tf.float32), 'sold': tf.io.VarLenFeature(tf.int64)}
_ROLE_ROWS = [
    dict(size=[1.0], weight=[1.0], colour=[b'red'], grade=[0], note=[b'x'], kind=[b'cat'],
         price=[2.5], sold=[1]),
    dict(size=[3.0], weight=[5.0], colour=[b'red'], grade=[2], note=[b'y'], kind=[b'dog'],
         price=[7.5], sold=[0]),
    dict(size=[], weight=[], colour=[b'blue'], grade=[7], note=[b'z'], kind=[b'cat'],
         price=[], sold=[1]),
    dict(size=[2.0], weight=[9.0], colour=[b'green'], grade=[1], note=[], kind=[b'bird'],
         price=[4.0], sold=[0]),
]


def _small(task, label):
  values = {'name': 'small', 'task': task, 'columns': _COLUMNS, 'label': label,
            'blessing_threshold': 0.5}
  return parse(values, 'test')


def _run_small(dataset, without=None):
  rows = [{key: np.array(value) for key, value in row.items()}
          for index, row in enumerate(_ROLE_ROWS) if index != without]
  metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(_SPEC))
  return _transform(rows, dataset, metadata)


def test_each_role():
  rows = _run_small(_small('binary', {'column': 'sold'}))
  assert set(rows[0]) == {'size_xf', 'weight_xf', 'colour_xf', 'grade_xf', 'sold_xf'}
  # numeric: z-scored; a missing value is the mean (z-score 0).
  sizes = [row['size_xf'] for row in rows]
  assert sizes[2] == pytest.approx(0.0, abs=1e-6) and sizes[0] < sizes[3] < sizes[1]
  # bucketized: quantile bucket ids 0..2, in value order.
  weights = [row['weight_xf'] for row in rows]
  assert all(0 <= w < 3 for w in weights) and weights[0] <= weights[1] <= weights[3]
  # vocabulary: the most frequent value first; a value beyond top_k in the OOV bucket (id 2).
  colours = [row['colour_xf'] for row in rows]
  assert colours[0] == colours[1] == 0 and 2 in colours[2:]
  # integer_id: the value itself, clipped into 0..num_ids-1.
  assert [row['grade_xf'] for row in rows] == [0, 2, 2, 1]


def test_binary_label_from_a_column():
  rows = _run_small(_small('binary', {'column': 'sold'}))
  assert [row['sold_xf'] for row in rows] == [1, 0, 1, 0]


def test_multiclass_label_is_the_index_in_classes():
  rows = _run_small(_small('multiclass', {'column': 'kind', 'classes': ['dog', 'cat', 'bird']}))
  assert [row['kind_xf'] for row in rows] == [1, 0, 1, 2]


def test_regression_label_is_the_value():
  rows = _run_small(_small('regression', {'column': 'price'}), without=2)
  assert [row['price_xf'] for row in rows] == pytest.approx([2.5, 7.5, 4.0])


def test_a_missing_label_is_never_made_up():
  # It was 0. The ExampleGen leaves such a row out; one that did not come through it fails.
  with pytest.raises(ValueError, match="label column .{1,3}price.{1,3} is missing in some rows: a row "
                     'without a label is no example'):
    _run_small(_small('regression', {'column': 'price'}))


def test_label_expression_over_columns_counting_missing_inputs_as_zero():
  rows = _run_small(_small('binary', {'column': 'price', 'expression': 'price > 2 * size',
                                      'missing_inputs': 'zero'}))
  # 2.5 > 2; 7.5 > 6; missing price and size count as 0 (0 > 0 is false); 4 > 4 is false.
  assert [row['price_xf'] for row in rows] == [1, 1, 0, 0]


def test_missing_numeric_value_scores_as_the_filled_column_would():
  rows = _run_small(_small('binary', {'column': 'sold'}))
  # size 1, 3, missing, 2: filled with the mean 2, the column is 1, 3, 2, 2, whose (biased)
  # variance is 0.5; the z-scores are those of the filled column, not of the three present.
  filled = np.array([1.0, 3.0, 2.0, 2.0])
  expected = (filled - filled.mean()) / filled.std()
  assert [row['size_xf'] for row in rows] == pytest.approx(expected, abs=1e-6)


def test_missing_bucketized_value_is_in_the_mean_bucket_and_moves_no_boundary():
  rows = [dict(row, weight=weight) for row, weight in
          zip(_ROLE_ROWS * 3, [[1.0], [2.0], [], [3.0], [4.0], [5.0], [], [6.0], [7.0], [8.0],
                                  [], [9.0]])]
  dataset = _small('binary', {'column': 'sold'})
  metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(_SPEC))
  weights = [row['weight_xf'] for row in _transform(
      [{key: np.array(value) for key, value in row.items()} for row in rows], dataset, metadata)]
  # Present values 1..9 in 3 buckets: boundaries 4 and 7. Were the three filled-in means (5)
  # counted, the twelve values would put 4 in the first bucket.
  assert [weights[i] for i in (0, 1, 3, 4, 5, 7, 8, 9, 11)] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
  assert [weights[i] for i in (2, 6, 10)] == [1, 1, 1]


def test_the_data_is_analyzed_in_one_pass():
  # Every TFT phase is a pass over the whole input; columns that can be empty (sparse) must not
  # add one.
  fn = functools.partial(preprocessing_fn, custom_config=taxi.TAXI.to_custom_config())
  metadata = dataset_metadata.DatasetMetadata(tfdv.load_schema_text(taxi.TAXI.schema_path))
  pipeline = beam.Pipeline()
  with tempfile.TemporaryDirectory() as temp_dir, tft_beam.Context(temp_dir=temp_dir):
    _ = (pipeline | beam.Create(ROWS), metadata) | tft_beam.AnalyzeDataset(fn)
  labels = [transform.unique_name
            for transform in pipeline.to_runner_api().components.transforms.values()]
  assert any('[Phase0]' in label for label in labels)
  assert not any('[Phase1]' in label for label in labels)


def test_date_role_year_month_weekday_and_hour_from_text_and_epoch_seconds():
  dataset = parse({'name': 'dated', 'task': 'binary', 'blessing_threshold': 0.5,
                   'label': {'column': 'y'}, 'columns': {
                       'when': {'type': 'string', 'role': 'date', 'hour': True},
                       'stamp': {'type': 'int', 'role': 'date'}, 'y': 'int'}}, 'test')
  spec = {'when': tf.io.VarLenFeature(tf.string), 'stamp': tf.io.VarLenFeature(tf.int64),
          'y': tf.io.FixedLenFeature([], tf.int64)}
  # 1970-01-01 was a Thursday (ISO 4), 2024-05-31 a Friday (5), 2000-02-29 a Tuesday (2),
  # 1969-12-31 a Wednesday (3); the third row has no date.
  rows = [dict(when=[b'1970-01-01'], stamp=[0], y=[0]),
          dict(when=[b'2024-05-31 13:45:00 UTC'], stamp=[1717163100], y=[1]),
          dict(when=[], stamp=[], y=[0]),
          dict(when=[b'2000/02/29T23:59'], stamp=[951868740], y=[1]),
          dict(when=[b'not a date'], stamp=[-3600], y=[0])]
  metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(spec))
  out = _transform([{k: np.array(v) for k, v in row.items()} for row in rows], dataset, metadata)
  assert set(out[0]) == {'when_year_xf', 'when_month_xf', 'when_weekday_xf', 'when_hour_xf',
                         'stamp_year_xf', 'stamp_month_xf', 'stamp_weekday_xf', 'y_xf'}
  assert dataset.model_inputs() == {'when_year_xf': 0, 'when_month_xf': 13,
                                    'when_weekday_xf': 8, 'when_hour_xf': 25, 'stamp_year_xf': 0,
                                    'stamp_month_xf': 13, 'stamp_weekday_xf': 8}
  assert [row['when_month_xf'] for row in out] == [1, 5, 0, 2, 0]
  assert [row['when_weekday_xf'] for row in out] == [4, 5, 0, 2, 0]
  assert [row['when_hour_xf'] for row in out] == [1, 14, 0, 24, 0]  # the hour, plus 1
  assert [row['stamp_month_xf'] for row in out] == [1, 5, 0, 2, 12]
  assert [row['stamp_weekday_xf'] for row in out] == [4, 5, 0, 2, 3]
  years = [row['when_year_xf'] for row in out]
  # A number: z-scored over the dates present; a missing or unreadable date scores 0.
  assert years[2] == years[4] == 0.0 and years[0] < years[3] < years[1]
  stamps = [row['stamp_year_xf'] for row in out]
  assert stamps[2] == 0.0 and stamps[4] < stamps[0] < stamps[3] < stamps[1]
