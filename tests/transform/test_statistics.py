"""transform/statistics.py: Transform's statistics cover the label only."""

import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx.components.transform import stats_options_util

import datadefs
from transform import statistics


def _schema(*names):
  schema = schema_pb2.Schema()
  for name in names:
    schema.feature.add(name=name, type=schema_pb2.FLOAT)
  return schema


def _updated(stats_type, schema=None, name='taxi'):
  dataset = datadefs.load(name)
  return dataset, statistics.stats_options_updater_fn(
      stats_type, tfdv.StatsOptions(schema=schema), dataset.to_custom_config())


def test_pre_transform_statistics_are_of_the_raw_label_column():
  dataset, options = _updated(stats_options_util.StatsType.PRE_TRANSFORM)
  assert options.feature_allowlist == [dataset.label.column] == ['tips']


def test_post_transform_statistics_and_schema_are_of_the_transformed_label():
  dataset, options = _updated(stats_options_util.StatsType.POST_TRANSFORM,
                              _schema('fare_xf', 'tips_xf', 'company_xf'))
  assert options.feature_allowlist == [dataset.label_key] == ['tips_xf']
  assert [feature.name for feature in options.schema.feature] == ['tips_xf']


def test_a_multiclass_label_is_kept_by_its_own_name():
  dataset, options = _updated(stats_options_util.StatsType.POST_TRANSFORM, name='penguins')
  assert options.feature_allowlist == [dataset.label_key]
  assert options.schema is None
