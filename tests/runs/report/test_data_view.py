"""Data and validation sections (runs/report/data_view.py)."""

import pytest
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2

from runs.report import data_view
from runs.report import readers
from tests.runs.report import fixtures


def _stats(companies):
  return fixtures.feature_stats(sum(companies.values()), companies).datasets[0]


def test_features_show_each_split_with_the_schemas_expectation():
  schema = readers.load_schema(fixtures.TAXI_SCHEMA)
  views = {v.name: v for v in data_view.features(
      {'train': _stats({'A': 3, 'B': 1}), 'eval': _stats({'A': 1})}, schema)}
  fare = views['fare']
  assert fare.kind == 'numeric' and set(fare.splits) == {'train', 'eval'}
  assert fare.splits['train'].missing == 0.25 and len(fare.splits['train'].buckets) == 2
  assert fare.expectation == ['FLOAT', 'required in every example']
  company = views['company']
  assert company.kind == 'categorical'
  assert company.splits['train'].top_values == [('A', 3), ('B', 1)]
  assert company.expectation == [
      'BYTES', 'required in every example', "domain 'company' (45 values)",
      '>= 90% of values in the domain', 'drift L-infinity <= 0.2']
  tract = views['pickup_census_tract']
  assert tract.kind == 'no values' and tract.splits['train'].missing == 1.0
  assert 'optional' in tract.expectation
  # In the schema, absent from the data: listed, so a dropped column shows.
  assert views['trip_miles'].kind == 'missing' and not views['trip_miles'].splits
  assert 'not in SERVING' in views['tips'].expectation


def test_missing_shares_come_from_the_value_counts():
  """The ExampleGen writes a missing cell as an empty list, which TFDV counts as present (its
  num_missing is 0): the share is from the values counted (the taxi sample's company is 34%
  empty, pickup_census_tract all empty: shown as 0.0% missing, "mean 0, std 0" before)."""
  stats = _stats({'A': 3, 'B': 1})
  for feature in stats.features:
    if feature.path.step[0] == 'company':  # 1 of 4 examples holds an empty list
      feature.string_stats.common_stats.tot_num_values = 3
      feature.string_stats.common_stats.min_num_values = 0
    if feature.path.step[0] == 'pickup_census_tract':  # every example an empty list
      common = feature.num_stats.common_stats
      common.num_non_missing, common.tot_num_values, common.max_num_values = 4, 0, 0
      feature.num_stats.mean = feature.num_stats.std_dev = 0.0
  views = {v.name: v for v in data_view.features({'train': stats}, None)}
  company = views['company'].splits['train']
  assert (company.count, company.missing) == (3, 0.25)
  tract = views['pickup_census_tract']
  assert tract.kind == 'no values' and tract.splits['train'].missing == 1.0
  assert tract.splits['train'].summary == 'no values'


def test_a_feature_the_schema_does_not_know_says_so():
  assert data_view.expectation(None, readers.load_schema(fixtures.TAXI_SCHEMA)) == [
      'not in the curated schema']


def test_anomalies_merge_the_validators_and_the_gates_rows_once():
  found = anomalies_pb2.Anomalies()
  found.anomaly_info['company'].reason.add(
      type=anomalies_pb2.AnomalyInfo.ENUM_TYPE_UNEXPECTED_STRING_VALUES, description='Bogus ')
  error = ('AnomaliesGate failed: DataAnomaliesError: data validation found 2 anomalies:\n'
           '  [eval] company: ENUM_TYPE_UNEXPECTED_STRING_VALUES: Bogus\n'
           '  [train vs last accepted data] company: COMPARATOR_L_INFTY_HIGH: distance 0.3\n'
           '  [eval] <dataset>: EMPTY_SPLIT: split \'eval\' has no examples')
  rows = data_view.anomalies({'eval': found}, error)
  assert [(r.split, r.feature, r.kind) for r in rows] == [
      ('eval', '<dataset>', 'EMPTY_SPLIT'),
      ('eval', 'company', 'ENUM_TYPE_UNEXPECTED_STRING_VALUES'),
      ('train vs last accepted data', 'company', 'COMPARATOR_L_INFTY_HIGH')]
  assert data_view.anomalies({}, None) == []


def test_drift_is_the_largest_change_in_any_values_share():
  schema = readers.load_schema(fixtures.TAXI_SCHEMA)
  rows = {r.feature: r for r in data_view.drift(
      _stats({'A': 60, 'B': 40}), _stats({'A': 90, 'B': 10}), schema)}
  assert round(rows['company'].distance, 6) == 0.3 and rows['company'].worst_value == 'A'
  assert rows['company'].threshold == 0.2 and rows['company'].over
  # payment_type has a comparator but no statistics here: shown, not computed.
  assert rows['payment_type'].distance is None and not rows['payment_type'].over


def test_drift_without_a_baseline_shows_the_thresholds_only():
  rows = data_view.drift(_stats({'A': 1}), None, readers.load_schema(fixtures.TAXI_SCHEMA))
  assert [(r.feature, r.distance, r.threshold) for r in rows] == [
      ('company', None, 0.2), ('payment_type', None, 0.1)]


def test_linf_distance_counts_values_seen_on_one_side_only():
  assert data_view.linf_distance({'A': 1.0}, {'B': 1.0}) == (1.0, 'A')
  assert data_view.linf_distance(None, {'B': 1.0}) == (None, '')


def test_numbers_show_whole_ids_in_full():
  assert data_view.number(17031081800.0) == '17031081800'
  assert data_view.number(0.0385312) == '0.03853'


@pytest.mark.parametrize('bounds, expected', [
    ({'min': 1}, 'int >= 1'), ({'max': 9}, 'int <= 9'), ({'min': 0, 'max': 9}, 'int range [0, 9]'),
    ({}, 'int any value')])
def test_an_int_domain_shows_only_the_bounds_it_sets(bounds, expected):
  feature = schema_pb2.Feature(name='height', type=schema_pb2.INT,
                               int_domain=schema_pb2.IntDomain(**bounds))
  assert expected in data_view.expectation(feature, schema_pb2.Schema(feature=[feature]))


def test_image_bytes_show_their_sizes_and_formats_against_the_image_domain():
  # pylint: disable=import-outside-toplevel
  from tensorflow_metadata.proto.v0 import statistics_pb2
  import datadefs
  from datadefs.images import schema as image_schema
  dataset = datadefs.load('digits')
  schema = readers.load_schema(dataset.schema_path)
  stats = statistics_pb2.DatasetFeatureStatistics(num_examples=10)
  image = stats.features.add(type=statistics_pb2.FeatureNameStatistics.BYTES)
  image.path.step.append('image')
  image.bytes_stats.common_stats.num_non_missing = 10
  image.bytes_stats.common_stats.tot_num_values = 10
  image.bytes_stats.common_stats.max_num_values = 1
  image.bytes_stats.avg_num_bytes, image.bytes_stats.max_num_bytes = 2500.0, 4688.0
  formats = image.custom_stats.add(name='image_format_histogram')
  formats.rank_histogram.buckets.add(label='png', sample_count=4)
  formats.rank_histogram.buckets.add(label='jpeg', sample_count=6)
  height = stats.features.add(type=statistics_pb2.FeatureNameStatistics.INT)
  height.path.step.append('image_height')
  views = {v.name: v for v in data_view.features({'train': stats}, schema)}
  view = views['image']
  assert view.kind == 'categorical' and view.splits['train'].count == 10
  assert view.splits['train'].top_values == [('jpeg', 6), ('png', 4)]
  assert view.splits['train'].summary == ('avg 2,500 bytes, min 0, max 4,688; formats jpeg 6, '
                                          'png 4')
  assert (f'images (JPEG, PNG, GIF, BMP) in >= 100% of values, each at most '
          f'{image_schema.MAX_IMAGE_BYTES:,} bytes') in view.expectation
  assert 'int >= 1' in views['image_height'].expectation


def test_values_that_each_occur_once_get_no_chart():
  """An id or an image's content hash: every value once, a chart of them would be flat noise."""
  company = {v.name: v for v in data_view.features(
      {'train': _stats({'A': 1, 'B': 1, 'C': 1})}, None)}['company'].splits['train']
  assert company.top_values == [] and company.summary.startswith('3 unique (every value once)')
