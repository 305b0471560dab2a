"""datadefs/tabular/inference.py and datadefs/init.py: what `dataset init` decides, and that it
reproduces the bundled definitions it made."""

import re
from pathlib import Path

import pytest

import datadefs
from datadefs.tabular import inference
from datadefs import init
from datadefs.task_values import BaselineScores


def test_types_roles_and_reasons():
  header = ['id', 'when', 'colour', 'grade', 'year', 'size', 'const', 'label']
  rows = [[str(i), f'2024-01-{i % 28 + 1:02d}', ['red', 'blue'][i % 2], str(i % 3),
           str(2000 + i % 3), f'{i * 0.5}', 'x', str(i % 2)] for i in range(60)]
  rows[3][5] = 'NA'
  guess = inference.guess(header, rows, 'label')
  roles = {column.name: (column.type, column.role) for column in guess.columns}
  assert roles == {
      'id': ('int', 'ignored'), 'when': ('string', 'date'),
      'colour': ('string', 'vocabulary'), 'grade': ('int', 'integer_id'),
      'year': ('int', 'vocabulary'), 'size': ('float', 'numeric'),
      'const': ('string', 'ignored'), 'label': ('int', 'ignored')}
  reasons = {column.name: column.reason for column in guess.columns}
  assert 'an id' in reasons['id']
  assert reasons['when'] == ('date values (2024): the year as a number, month and day of week '
                             'as categories')
  assert guess.task == 'binary' and guess.missing_values == ('NA',)
  assert guess.baseline == pytest.approx(0.5)
  assert guess.threshold > guess.baseline  # A model must beat the majority class.


@pytest.mark.parametrize('values, task, classes', [
    (['a', 'b', 'a'], 'multiclass', ('a', 'b')),
    (['3', '1', '2', '1'], 'multiclass', (1, 2, 3)),
    (['0.5', '2.25', '7'], 'regression', ()),
    (['1', '0', '0'], 'binary', ()),
])
def test_task_from_the_label(values, task, classes):
  guess = inference.guess(['x', 'y'], [['1.0', value] for value in values], 'y')
  assert (guess.task, guess.classes) == (task, classes)


def test_regression_threshold_is_under_the_mean_predictors_error():
  guess = inference.guess(['x', 'y'], [['1', '0'], ['2', '10'], ['3', '20']], 'y',
                          task='regression')
  assert guess.baseline == pytest.approx(20 / 3)
  assert guess.threshold == pytest.approx(0.9 * 20 / 3)


@pytest.mark.parametrize('label, message', [
    ('nope', "the label column 'nope' is missing: the CSV header has \\['x', 'y'\\]"),
])
def test_bad_label_is_named(label, message):
  with pytest.raises(ValueError, match=message):
    inference.guess(['x', 'y'], [['1', '2']], label)


def test_init_names_the_file_and_the_label_it_lacks(tmp_path):
  path = tmp_path / 'a.csv'
  path.write_text('x,y\n1,2\n')
  with pytest.raises(ValueError, match=f"{path}: the label column 'mpg' is missing"):
    init.init_dataset(str(path), 'mpg', str(tmp_path / 'out'), say=lambda _: None)


def test_dates_empty_columns_and_rows_without_a_label():
  """vega_datasets' cars: Miles_per_Gallon empty in 8 of 406 rows, Year a date string."""
  header = ['Name', 'mpg', 'Year', 'trip_start_timestamp', 'when', 'tract', 'sparse', 'hp']
  rows = [[f'car {i}', '' if i % 10 == 0 else f'{20 + i % 7}.5', f'{1970 + i % 12}-01-01',
           str(1420070400 + 3600 * i), f'2012/01/{i % 28 + 1:02d} {i % 24:02d}:30', '',
           '7' if i == 3 else '', f'{100 + i % 60}.5'] for i in range(200)]
  guess = inference.guess(header, rows, 'mpg')
  columns = {column.name: column for column in guess.columns}
  assert guess.rows_without_label == 20 and guess.task == 'regression'
  year = columns['Year']
  assert (year.type, year.role, year.options) == ('string', 'date', {})
  assert year.reason == ('date values (1970-1981): the year as a number, month and day of week '
                         'as categories')
  stamp = columns['trip_start_timestamp']  # whole seconds since 1970, hourly
  assert (stamp.type, stamp.role, stamp.options) == ('int', 'date', {'hour': True})
  assert stamp.reason.startswith('whole seconds since 1970 (2015): the year as a number')
  assert stamp.reason.endswith(', and the hour')
  assert (columns['when'].role, columns['when'].options) == ('date', {'hour': True})
  assert (columns['tract'].role, columns['tract'].reason) == (
      'ignored', 'empty in all 200 sample rows: nothing to learn from')
  assert (columns['sparse'].role, columns['sparse'].reason) == (
      'ignored', 'empty in 199 of 200 sample rows: too few values to learn from')
  assert columns['hp'].role == 'numeric'  # not named like a time: a number


def test_init_says_how_many_sample_rows_lack_the_label(tmp_path):
  path = tmp_path / 'cars.csv'
  path.write_text('name,mpg,Year,hp\n' + ''.join(
      f'car {i},{"" if i % 10 == 0 else 20 + i % 7},{1970 + i % 12}-01-01,{100 + i % 50}\n'
      for i in range(60)))
  said = []
  init.init_dataset(str(path), 'mpg', str(tmp_path / 'cars'), say=said.append)
  assert ("rows without a label: 6 of 60 sample rows have no 'mpg'; such rows are left out of "
          'training and evaluation, and each run counts them') in said
  text = (tmp_path / 'cars' / 'dataset.toml').read_text()
  assert 'Year = { type = "string", role = "date" }  # date values (1970-1981)' in text
  assert datadefs.load(str(tmp_path / 'cars')).model_inputs()['Year_year_xf'] == 0


def test_ragged_rows_are_refused_with_the_line(tmp_path):
  path = tmp_path / 'a.csv'
  path.write_text('x,y\n1,2\n3\n')
  with pytest.raises(ValueError, match='line 3: malformed row: 1 fields, the header has 2'):
    inference.read_sample(str(path))


def _definition_lines(path: Path):
  """The definition without comments, the lines a maintainer added (data location) and the
  [baseline] table and the blessing threshold set from it (compared on their own), and the model (init proposes one:
  datadefs/tabular/model_choice.py; a bundled dataset names its own)."""
  lines = []
  for line in path.read_text().splitlines():
    line = re.sub(r'\s*#.*$', '', line)
    if line == '[baseline]':
      break
    if line and not line.startswith(('default_data_root', 'default_input_pattern', 'name',
                                     'model', 'blessing_threshold')):
      lines.append(line)
  return lines


@pytest.mark.integration  # TFDV over the sample.
@pytest.mark.parametrize('name, label, task', [('penguins', 'species', None),
                                               ('taxi_fare', 'fare', 'regression')])
def test_init_reproduces_the_bundled_definition(tmp_path, name, label, task):
  bundled = datadefs.load(name)
  csv = next(Path(datadefs.data_root(bundled)).glob(bundled.default_input_pattern or '*.csv'))
  init.init_dataset(str(csv), label, str(tmp_path / name), task=task, say=lambda _: None)
  made = _definition_lines(tmp_path / name / 'dataset.toml')
  kept = _definition_lines(Path(bundled.schema_path).parent / 'dataset.toml')
  # The bundled taxi_fare was reviewed after init: tips (known only after the fare) ignored.
  reviewed = [line for line in kept if 'tips' in line]
  assert [line for line in made if 'tips' not in line] == [
      line for line in kept if line not in reviewed]
  assert (tmp_path / name / 'schema.pbtxt').read_text() == Path(
      bundled.schema_path).read_text()
  made_dataset = datadefs.load(str(tmp_path / name))
  assert made_dataset.task == bundled.task
  # The same sample split by the same rule: the same naive score, on the same eval rows, as
  # `python -m pipeline dataset baseline` measured into the bundled definition.
  assert made_dataset.baseline.naive == bundled.baseline.naive
  assert made_dataset.baseline.eval_rows == bundled.baseline.eval_rows
  if not reviewed:  # The same features: the same default GBM.
    assert made_dataset.baseline == bundled.baseline
  # The threshold: halfway from the naive score to the GBM's (bundled thresholds are curated).
  made_scores = made_dataset.baseline
  assert made_dataset.blessing_threshold == pytest.approx(
      init.halfway_threshold(made_scores, made_dataset.task_kind.higher_is_better), rel=1e-5)
  assert (made_dataset.blessing_threshold - made_scores.naive) * (
      made_scores.gbm - made_dataset.blessing_threshold) > 0  # strictly between the two


@pytest.mark.parametrize('naive, gbm, higher, expected', [
    (0.6, 0.8, True, 0.7), (2.8, 2.6, False, 2.7), (0.6, 0.55, True, None),
    (2.8, 3.0, False, None), (0.6, None, True, None)])
def test_the_threshold_is_halfway_to_the_gbm_only_when_it_beats_naive(naive, gbm, higher,
                                                                      expected):
  scores = BaselineScores(metric='m', naive=naive, gbm=gbm, rows=10, eval_rows=3, how='')
  threshold = init.halfway_threshold(scores, higher)
  assert threshold == (None if expected is None else pytest.approx(expected))


def test_init_refuses_to_overwrite(tmp_path):
  (tmp_path / 'dataset.toml').write_text('')
  with pytest.raises(FileExistsError, match='exists'):
    init.init_dataset('any.csv', 'y', str(tmp_path))
