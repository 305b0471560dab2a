"""datadefs/tabular/baseline.py and datadefs/baseline_scores.py: the naive baseline and a default
gradient-boosted model measured on a sample split by the pipeline's rule, and the [baseline]
table written into a definition."""

import csv
from pathlib import Path

import numpy as np
import pytest

import datadefs
from datadefs import baseline_scores
from datadefs.definition import parse
from datadefs.tabular import baseline, splits

ROWS = 1500
UNLABELLED = 20


def _write(path: Path, header, rows) -> str:
  with path.open('w', newline='') as f:
    writer = csv.writer(f)
    writer.writerow(header)
    writer.writerows(rows)
  return str(path)


def _table(seed=0):
  """Two numbers and a category; a few cells of x2 missing."""
  generator = np.random.default_rng(seed)
  x1, x2 = generator.uniform(-1, 1, ROWS), generator.uniform(-1, 1, ROWS)
  colour = generator.choice(['red', 'green', 'blue'], ROWS)
  missing = generator.random(ROWS) < 0.05
  return generator, x1, x2, colour, missing


def _definition(task, label, columns, **more):
  return parse({'name': 'toy', 'task': task, 'blessing_threshold': more.pop('threshold', 0.5),
                'columns': columns, 'label': label, **more}, 'dataset.toml')


_FEATURES = {'x1': {'type': 'float', 'role': 'numeric'},
             'x2': {'type': 'float', 'role': 'numeric'},
             'colour': {'type': 'string', 'role': 'vocabulary'}}


def test_on_a_binary_table_the_gbm_clearly_beats_the_majority_class(tmp_path):
  # The label is which diagonal quadrant a row is in, 5% of labels flipped: a constant is right
  # half the time, a model of the two numbers up to 95% of the time.
  generator, x1, x2, colour, missing = _table()
  label = ((x1 * x2 > 0) ^ (generator.random(ROWS) < 0.05)).astype(int)
  rows = [[a, '' if gap else b, c, y] for a, b, c, y, gap in zip(x1, x2, colour, label, missing)]
  for row in rows[:UNLABELLED]:
    row[3] = ''
  path = _write(tmp_path / 'toy.csv', ['x1', 'x2', 'colour', 'y'], rows)
  dataset = _definition('binary', {'column': 'y'}, {**_FEATURES, 'y': 'int'})
  scores = baseline.measure(dataset, path)
  assert scores.metric == 'binary_accuracy'
  assert abs(scores.naive - 0.5) < 0.1
  assert scores.gbm > scores.naive + 0.25
  # Rows without a label are left out, and said; the eval part is about a third (hash buckets
  # 1 of 3), within 6 standard deviations.
  assert scores.rows == ROWS - UNLABELLED
  assert f'({UNLABELLED} without a label left out)' in scores.how
  assert abs(scores.eval_rows / scores.rows - 1 / 3) < 6 * (2 / 9 / scores.rows) ** 0.5


def test_on_a_regression_table_the_gbm_errs_far_less_than_the_mean(tmp_path):
  generator, x1, x2, colour, missing = _table(seed=1)
  shift = {'red': 0.0, 'green': 3.0, 'blue': -3.0}
  day = generator.integers(1, 29, ROWS)
  fare = (10 + 5 * np.sin(3 * x1) + [shift[c] for c in colour] + 0.5 * day +
          generator.normal(0, 0.2, ROWS))
  when = [f'2024/02/{d:02d}' if index % 50 else 'someday' for index, d in enumerate(day)]
  rows = [[a, '' if gap else b, c, w, y]
          for a, b, c, w, y, gap in zip(x1, x2, colour, when, fare, missing)]
  path = _write(tmp_path / 'toy.csv', ['x1', 'x2', 'colour', 'when', 'fare'], rows)
  columns = {**_FEATURES, 'when': {'type': 'string', 'role': 'date'}, 'fare': 'float'}
  dataset = _definition('regression', {'column': 'fare'}, columns, threshold=5.0)
  scores = baseline.measure(dataset, path)
  assert scores.metric == 'mean_absolute_error' and scores.rows == ROWS
  # The mean predictor's error is about the label's spread; the noise left is 0.2.
  assert scores.gbm < 0.3 * scores.naive
  # Without the date (half a dollar a day, a spread of ~4) the model errs more.
  ignored = _definition('regression', {'column': 'fare'},
                        {**columns, 'when': {'type': 'string', 'role': 'ignored'}}, threshold=5.0)
  assert baseline.measure(ignored, path).gbm > 2 * scores.gbm


def test_labels_follow_the_tasks_label_rule(tmp_path):
  """A multiclass label's class not listed is left out; an expression label with missing
  inputs counted as 0 keeps those rows, as Transform does."""
  generator, x1, x2, colour, missing = _table(seed=2)
  species = np.where(x1 > 0.3, 'a', np.where(x1 < -0.3, 'b', 'c')).astype(object)
  species[:5] = 'unlisted'
  rows = [[a, b, c, s] for a, b, c, s in zip(x1, x2, colour, species)]
  path = _write(tmp_path / 'classes.csv', ['x1', 'x2', 'colour', 'species'], rows)
  dataset = _definition('multiclass', {'column': 'species', 'classes': ['a', 'b', 'c']},
                        {**_FEATURES, 'species': 'string'})
  scores = baseline.measure(dataset, path)
  assert scores.rows == ROWS - 5 and scores.gbm > scores.naive + 0.3
  assert '(5 without a label or with a class the definition does not list left out)' in scores.how

  fare = generator.uniform(5, 50, ROWS)
  tip = np.where(x2 > 0, 0.3, 0.1) * fare
  rows = [[a, b, c, f, '' if gap else t]
          for a, b, c, f, t, gap in zip(x1, x2, colour, fare, tip, missing)]
  path = _write(tmp_path / 'tips.csv', ['x1', 'x2', 'colour', 'fare', 'tip'], rows)
  dataset = _definition('binary', {'column': 'tip', 'expression': 'tip > 0.2 * fare',
                                   'missing_inputs': 'zero'},
                        {**_FEATURES, 'x2': {'type': 'float', 'role': 'numeric'},
                         'fare': {'type': 'float', 'role': 'numeric'}, 'tip': 'float'})
  scores = baseline.measure(dataset, path)
  assert scores.rows == ROWS  # A missing tip is a tip of 0: a label of 0, the row kept.
  assert scores.gbm > scores.naive + 0.3


def test_too_few_rows_are_named(tmp_path):
  path = _write(tmp_path / 'tiny.csv', ['x1', 'y'], [[1.0, 1]])
  dataset = _definition('binary', {'column': 'y'},
                        {'x1': {'type': 'float', 'role': 'numeric'}, 'y': 'int'})
  with pytest.raises(baseline.BaselineError, match='tiny.csv: 1 labelled rows of 1'):
    baseline.measure(dataset, path)


def test_dataset_baseline_rewrites_the_table_in_place(tmp_path):
  generator, x1, x2, colour, _ = _table(seed=3)
  label = (x1 + 0.1 * generator.normal(size=ROWS) > 0).astype(int)
  path = _write(tmp_path / 'data.csv', ['x1', 'x2', 'colour', 'y'],
                list(zip(x1, x2, colour, label)))
  (tmp_path / 'schema.pbtxt').write_text('')
  definition = tmp_path / 'dataset.toml'
  head = ('name = "toy"\ntask = "binary"\nblessing_threshold = 0.3\n[label]\ncolumn = "y"\n'
          '# the columns\n[columns]\nx1 = { type = "float", role = "numeric" }\n'
          'x2 = { type = "float", role = "numeric" }\n'
          'colour = { type = "string", role = "vocabulary" }\ny = "int"\n')
  definition.write_text(head)
  said = []
  scores = baseline.rewrite(str(tmp_path), path, say=said.append)
  assert datadefs.load(str(tmp_path)).baseline == scores
  assert said[0] == baseline_scores.describe(scores)
  once = definition.read_text()
  assert once.startswith(head) and once.count('[baseline]') == 1
  # A stale table in the middle of the file is replaced; the tables around it are kept.
  definition.write_text(head.replace('# the columns\n', '[baseline]\nmetric = "binary_accuracy"\n'
                                     'naive = 0.1\nrows = 9\neval_rows = 3\n# the columns\n'))
  assert datadefs.load(str(tmp_path)).baseline.naive == 0.1
  baseline.rewrite(str(tmp_path), path, say=said.append)
  assert datadefs.load(str(tmp_path)).baseline == scores
  text = definition.read_text()
  assert text.count('[baseline]') == 1 and '# the columns\n[columns]' in text
  # The bound: the threshold (0.3) is laxer than the naive score, which bounds the blessing.
  assert datadefs.load(str(tmp_path)).blessing_bound == scores.naive
