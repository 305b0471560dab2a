"""datadefs/: loading, checking and carrying a definition; the label expression."""

import dataclasses
import json

import pytest
import tensorflow as tf
import tensorflow_data_validation as tfdv

import datadefs
from datadefs import label_expression
from datadefs.definition import Dataset, DatasetError, parse

_VALID = {'name': 'toy', 'task': 'binary', 'blessing_threshold': 0.7,
          'columns': {'x': {'type': 'float', 'role': 'numeric'}, 'y': 'int'},
          'label': {'column': 'y'}}


def _with(**changes):
  values = {key: (dict(value) if isinstance(value, dict) else value)
            for key, value in _VALID.items()}
  values.update(changes)
  return values


@pytest.mark.parametrize('name', datadefs.bundled())
def test_each_bundled_dataset_loads_and_its_schema_has_exactly_its_columns(name):
  dataset = datadefs.load(name)
  schema = tfdv.load_schema_text(dataset.schema_path)
  assert {feature.name for feature in schema.feature} == set(dataset.column_types)
  assert Dataset.from_dict(dataset.to_dict()) == dataclasses.replace(dataset, schema_path='')
  assert dataset.schema_path not in json.dumps(dataset.to_dict())  # No local path leaks.
  label = tfdv.get_feature(schema, dataset.label.column)
  assert 'SERVING' in label.not_in_environment


def test_bundled_datasets_cover_each_task():
  assert {datadefs.load(name).task for name in datadefs.bundled()} == {
      'binary', 'multiclass', 'regression'}


def test_a_folder_or_its_toml_file_loads(tmp_path):
  (tmp_path / 'schema.pbtxt').write_text('')
  (tmp_path / 'dataset.toml').write_text(
      'name = "toy"\ntask = "binary"\nblessing_threshold = 0.7\n[label]\ncolumn = "y"\n'
      '[columns]\nx = { type = "float", role = "numeric" }\ny = "int"\n')
  assert datadefs.load(str(tmp_path)).features()[0].name == 'x'
  assert datadefs.load(str(tmp_path / 'dataset.toml')).label_key == 'y_xf'


@pytest.mark.parametrize('changes, message', [
    (dict(task='ranking'), r"task: must be one of \['binary', 'multiclass', 'regression'\]"),
    (dict(name='My Data'), 'name:.*lower-case'),
    (dict(columns={'x': {'type': 'decimal'}, 'y': 'int'}), r'columns\.x\.type: must be one'),
    (dict(columns={'x': {'type': 'float', 'role': 'embedding'}, 'y': 'int'}),
     r'columns\.x\.role: must be one of'),
    (dict(columns={'x': {'type': 'string', 'role': 'numeric'}, 'y': 'int'}),
     r'columns\.x\.role:.*needs numbers'),
    (dict(columns={'x': {'type': 'int', 'role': 'integer_id'}, 'y': 'int'}),
     r'columns\.x\.num_ids: is required'),
    (dict(columns={'x': {'type': 'float', 'role': 'numeric', 'buckts': 3}, 'y': 'int'}),
     r'columns\.x\.buckts: is not a known field'),
    (dict(label={'column': 'z'}), r"label\.column: 'z' is not one of the columns"),
    (dict(label={'column': 'y', 'expression': 'y > os.system'}), r'label\.expression:'),
    (dict(task='multiclass'), r'label\.classes: a multiclass label lists its classes'),
    (dict(blessing_threshold=1.5), r'blessing_threshold: an accuracy is in \[0, 1\]'),
    (dict(colour='red'), 'colour: is not a known field'),
    (dict(columns={'x': {'type': 'float'}, 'y': 'int'}), 'no column has a role'),
    (dict(columns={'x': {'type': 'float', 'role': 'date'}, 'y': 'int'}),
     r'columns\.x\.role: "date" reads dates as text \(year first'),
    (dict(columns={'x': {'type': 'string', 'role': 'date', 'hour': 'yes'}, 'y': 'int'}),
     r"columns\.x\.hour: must be true or false, got 'yes'"),
    (dict(columns={'x': {'type': 'float', 'role': 'numeric', 'hour': True}, 'y': 'int'}),
     r'columns\.x\.hour: is not a known field'),
    (dict(label={'column': 'y', 'missing_inputs': 'zero'}),
     r"label\.missing_inputs: applies to an expression; a row whose label column 'y' is empty "
     'has no label and is left out'),
    (dict(label={'column': 'y', 'expression': 'y > x', 'missing_inputs': 'mean'}),
     r"label\.missing_inputs: must be one of \['drop', 'zero'\], got 'mean'"),
])
def test_bad_definitions_name_the_field(changes, message):
  with pytest.raises(DatasetError, match=message):
    parse(_with(**changes), 'dataset.toml')


def test_unknown_dataset_says_what_exists():
  with pytest.raises(DatasetError, match=r"no such bundled dataset \(digits, penguins, taxi, taxi_fare\)"):
    datadefs.load('nope')


@pytest.mark.parametrize('typed, meant', [('penguin', 'penguins'), ('taxi-fare', 'taxi_fare'),
                                          ('texi', 'taxi')])
def test_a_mistyped_dataset_gets_did_you_mean(typed, meant):
  with pytest.raises(DatasetError, match=f"DATASET '{typed}': .* did you mean '{meant}'\\?"):
    datadefs.load(typed)


def test_a_row_needs_its_label_column_or_its_expressions_inputs():
  label = lambda **values: parse(_with(label=values), 'dataset.toml').label  # noqa: E731
  assert label(column='y').required_columns == ('y',)
  assert label(column='y', expression='y > 2 * x').required_columns == ('x', 'y')
  # A written choice: a missing input counts as 0 and the row stays (taxi's tips).
  assert label(column='y', expression='y > 2 * x', missing_inputs='zero').required_columns == ()
  assert datadefs.load('taxi').label.missing_inputs == 'zero'


def test_bad_toml_names_the_file(tmp_path):
  (tmp_path / 'dataset.toml').write_text('name = ')
  with pytest.raises(DatasetError, match='dataset.toml: not valid TOML'):
    datadefs.load(str(tmp_path))


@pytest.mark.parametrize('expression, message', [
    ('tips > 0.2 * fare', None),
    ('not (tips >= 1 or fare < 0)', None),
    ('__import__("os")', 'Call is not allowed'),
    ('tips.real', 'Attribute is not allowed'),
    ('0 < tips < 3', 'chained comparisons'),
    ('company == 1', "column 'company' is a string"),
    ('speed > 1', "'speed' is not one of the columns"),
    ('tips >', 'not an expression'),
])
def test_label_expressions_allow_arithmetic_and_comparisons_only(expression, message):
  columns = {'tips': 'float', 'fare': 'float', 'company': 'string'}
  if message is None:
    label_expression.check(expression, columns)
  else:
    with pytest.raises(ValueError, match=message):
      label_expression.check(expression, columns)


def test_label_expression_evaluates_as_tensorflow_ops():
  values = {'tips': tf.constant([3.0, 1.0, 0.0]), 'fare': tf.constant([10.0, 10.0, -1.0])}
  result = label_expression.evaluate('tips > 0.2 * fare and not fare < 0', values, tf)
  assert result.numpy().tolist() == [True, False, False]
  assert label_expression.evaluate('tips - -fare / 2', values, tf).numpy().tolist() == [
      8.0, 6.0, -0.5]


def test_custom_config_carries_the_definition_and_a_missing_one_is_named():
  taxi = datadefs.load('taxi')
  config = {'num_shards': 8, **taxi.to_custom_config()}
  assert Dataset.from_custom_config(config, 'Transform') == dataclasses.replace(
      taxi, schema_path='')
  with pytest.raises(ValueError, match="Trainer custom_config has no 'dataset'"):
    Dataset.from_custom_config({'num_shards': 8}, 'Trainer')


_BASELINE = {'metric': 'binary_accuracy', 'naive': 0.6, 'gbm': 0.8, 'rows': 300,
             'eval_rows': 100, 'how': 'measured'}


def test_a_baseline_table_loads_and_travels_with_the_definition():
  dataset = parse(_with(baseline=_BASELINE), 'dataset.toml')
  assert (dataset.baseline.naive, dataset.baseline.gbm, dataset.baseline.eval_rows) == (
      0.6, 0.8, 100)
  assert Dataset.from_dict(json.loads(json.dumps(dataset.to_dict()))) == dataclasses.replace(
      dataset, schema_path='')
  without_gbm = {key: value for key, value in _BASELINE.items() if key != 'gbm'}
  assert parse(_with(baseline=without_gbm), 'dataset.toml').baseline.gbm is None
  assert parse(_VALID, 'dataset.toml').baseline is None  # No table: no baseline shown.


@pytest.mark.parametrize('changes, message', [
    (dict(metric='mean_absolute_error'),
     r"baseline\.metric: the binary task is blessed on 'binary_accuracy', got "
     r"'mean_absolute_error'"),
    (dict(naive=1.2), r'baseline\.naive: an accuracy is in \[0, 1\], got 1.2'),
    (dict(gbm='high'), r"baseline\.gbm: must be a number, got 'high'"),
    (dict(gbm=float('nan')), r'baseline\.gbm: is not a finite number'),
    (dict(rows=2.5), r'baseline\.rows: must be a whole number >= 2, got 2.5'),
    (dict(eval_rows=300), r'baseline\.eval_rows: the eval part \(300\) is part of the 300 rows'),
    (dict(median=0.5), r'baseline\.median: is not a known field'),
])
def test_a_bad_baseline_value_is_named(changes, message):
  with pytest.raises(DatasetError, match=r'dataset\.toml: ' + message):
    parse(_with(baseline={**_BASELINE, **changes}), 'dataset.toml')


def test_a_regression_baseline_is_an_error_of_zero_or_more():
  values = _with(task='regression', blessing_threshold=2.0,
                 baseline={**_BASELINE, 'metric': 'mean_absolute_error', 'naive': 3.5})
  assert parse(values, 'dataset.toml').baseline.naive == 3.5
  values['baseline']['naive'] = -1.0
  with pytest.raises(DatasetError, match=r'baseline\.naive: a mean absolute error is >= 0'):
    parse(values, 'dataset.toml')
