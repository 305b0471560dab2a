"""preprocessing_fn run by TF Transform on Beam over a few in-memory rows."""

import tempfile

import numpy as np
import pytest
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata
import tensorflow_data_validation as tfdv

from pipeline import config as config_lib
from transform import features
from transform.preprocessing import preprocessing_fn


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
  schema = tfdv.load_schema_text(config_lib.SCHEMA_PATH)
  metadata = dataset_metadata.DatasetMetadata(schema)
  with tempfile.TemporaryDirectory() as temp_dir, tft_beam.Context(temp_dir=temp_dir):
    (rows, _), _ = (ROWS, metadata) | tft_beam.AnalyzeAndTransformDataset(preprocessing_fn)
  return rows


def test_every_model_feature_and_the_label_are_produced(transformed):
  expected = set(features.transformed_names(
      features.DENSE_FLOAT_FEATURE_KEYS + features.BUCKET_FEATURE_KEYS +
      features.VOCAB_FEATURE_KEYS + features.CATEGORICAL_FEATURE_KEYS))
  expected.add(features.TRANSFORMED_LABEL_KEY)
  assert set(transformed[0]) == expected
  assert len(transformed) == len(ROWS)


def test_label_is_big_tipper(transformed):
  assert [row['tips_xf'] for row in transformed] == [1, 0, 0, 0]


def test_dense_features_are_z_scored(transformed):
  fares = np.array([row['fare_xf'] for row in transformed])
  assert abs(fares.mean()) < 1e-5
  assert fares[2] > fares[1] > fares[0]


def test_vocabulary_ids_most_frequent_first(transformed):
  payment_ids = [row['payment_type_xf'] for row in transformed]
  # 'Credit Card' appears twice (rows 0 and 3); tie-breaks are by value, so check consistency.
  assert payment_ids[0] == payment_ids[3]
  assert payment_ids[1] == payment_ids[2] != payment_ids[0]
  assert all(0 <= i < features.VOCAB_SIZE + features.OOV_SIZE for i in payment_ids)


def test_categorical_ids_are_clipped_into_range(transformed):
  assert transformed[2]['trip_start_hour_xf'] == 23
  assert transformed[0]['trip_start_hour_xf'] == 19


def test_bucket_ids_in_range(transformed):
  for row in transformed:
    for key in features.transformed_names(features.BUCKET_FEATURE_KEYS):
      assert 0 <= row[key] < features.FEATURE_BUCKET_COUNT


def test_missing_coordinate_falls_in_lowest_bucket(transformed):
  # A missing latitude is filled with 0, below every Chicago latitude: a lower bucket.
  assert transformed[3]['pickup_latitude_xf'] < transformed[0]['pickup_latitude_xf']
