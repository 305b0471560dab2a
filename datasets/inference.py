"""What `dataset init` decides from a sample of a CSV: each column's type and role, the task,
the classes and the naive baseline the blessing threshold is set against. Pure Python over the
cells (no TensorFlow), so each decision comes with its reason."""

import csv
import dataclasses
import datetime
import gzip
import math
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple

# Cell texts read as "missing" when seen in a column (besides the empty cell).
MISSING_TEXTS = ('NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', 'None', '?')
SAMPLE_ROWS = 100_000
MAX_VOCABULARY = 1000      # A string column with more distinct values is text or an id.
MAX_CLASSES = 20           # An int label with at most this many values is a class.
SMALL_ID_RANGE = 100       # Ints in [0, 100) with few values are ids used as they are.
FEW_VALUES = 50


@dataclasses.dataclass
class ColumnGuess:
  name: str
  type: str
  role: str
  reason: str
  options: Dict[str, int] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Guess:
  columns: List[ColumnGuess]
  task: str
  classes: Tuple
  missing_values: Tuple[str, ...]
  baseline: float           # Majority-class accuracy, or the mean predictor's MAE.
  baseline_text: str
  threshold: float
  rows: int


def read_sample(path: str, rows: int = SAMPLE_ROWS) -> Tuple[List[str], List[List[str]]]:
  """The header and up to `rows` rows of a .csv or .csv.gz file (UTF-8, BOM allowed)."""
  opener = gzip.open if path.endswith('.gz') else open
  with opener(path, 'rt', newline='', encoding='utf-8-sig') as f:
    reader = csv.reader(f)
    try:
      header = next(reader)
    except StopIteration:
      raise ValueError(f'{path} is empty: a CSV with a header row is needed') from None
    sample = [row for _, row in zip(range(rows), reader)]
  bad = [index for index, row in enumerate(sample) if len(row) != len(header)]
  if bad:
    raise ValueError(f'{path}: line {bad[0] + 2} has {len(sample[bad[0]])} fields, the header '
                     f'{len(header)}; fix the file')
  if not sample:
    raise ValueError(f'{path} has a header and no rows: a sample of the data is needed')
  return header, sample


def guess(header: Sequence[str], rows: Sequence[Sequence[str]], label: str,
          task: Optional[str] = None) -> Guess:
  if label not in header:
    raise ValueError(f'label column {label!r} is not in the CSV header {list(header)}')
  cells = {name: [row[index] for row in rows] for index, name in enumerate(header)}
  missing = sorted({text for values in cells.values() for text in values
                    if text in MISSING_TEXTS})
  present = {name: [text for text in values if text != '' and text not in missing]
             for name, values in cells.items()}
  types = {name: _type_of(values) for name, values in present.items()}
  label_type = types[label]
  if label_type in ('date', 'datetime'):
    raise ValueError(f'label column {label!r} holds dates: a label is a class or a number')
  task = task or _task_of(label_type, present[label])
  classes = _classes(task, label_type, present[label])
  columns = [_role(name, types[name], present[name], len(rows)) if name != label else
             ColumnGuess(label, _csv_type(label_type), 'ignored', 'the label')
             for name in header]
  baseline, text, threshold = _baseline(task, label_type, present[label], classes)
  return Guess(columns=columns, task=task, classes=classes, missing_values=tuple(missing),
               baseline=baseline, baseline_text=text, threshold=threshold, rows=len(rows))


def _type_of(values: Sequence[str]) -> str:
  for kind, parse in (('int', int), ('float', float), ('date', datetime.date.fromisoformat),
                      ('datetime', _datetime)):
    try:
      for value in values:
        parse(value)
    except ValueError:
      continue
    if kind == 'float' and not all(math.isfinite(float(value)) for value in values):
      return 'string'
    return kind if values else 'string'
  return 'string'


def _datetime(text: str) -> datetime.datetime:
  return datetime.datetime.fromisoformat(text.replace('Z', '+00:00').replace(' UTC', ''))


def _csv_type(kind: str) -> str:
  return {'int': 'int', 'float': 'float'}.get(kind, 'string')


def _task_of(kind: str, values: Sequence[str]) -> str:
  distinct = set(values)
  if kind == 'int' and distinct <= {'0', '1'}:
    return 'binary'
  if kind == 'string' or (kind == 'int' and len(distinct) <= MAX_CLASSES):
    return 'multiclass'
  return 'regression'


def _classes(task: str, kind: str, values: Sequence[str]) -> Tuple:
  if task != 'multiclass':
    return ()
  distinct = sorted(set(values), key=int if kind == 'int' else str)
  if len(distinct) > MAX_CLASSES * 5:
    raise ValueError(f'the label has {len(distinct)} distinct values: too many classes for a '
                     'multiclass head; use --task regression, or a coarser label')
  return tuple(int(value) for value in distinct) if kind == 'int' else tuple(distinct)


def _role(name: str, kind: str, values: Sequence[str], rows: int) -> ColumnGuess:
  distinct = set(values)
  csv_type = _csv_type(kind)
  if not values:
    return ColumnGuess(name, 'string', 'ignored', 'always empty in the sample')
  if len(distinct) == 1:
    return ColumnGuess(name, csv_type, 'ignored', f'one value ({values[0]!r}): nothing to learn')
  if kind in ('date', 'datetime'):
    return ColumnGuess(name, 'string', 'ignored',
                       f'{kind} values: ignored (add hour/day/month columns to use them)')
  if kind == 'string':
    if len(distinct) > MAX_VOCABULARY or len(distinct) > 0.5 * len(values):
      return ColumnGuess(name, csv_type, 'ignored',
                         f'{len(distinct)} distinct texts in {len(values)} rows: an id or free '
                         'text')
    return ColumnGuess(name, csv_type, 'vocabulary', f'{len(distinct)} distinct texts',
                       {'top_k': MAX_VOCABULARY, 'oov': 10})
  if kind == 'int' and len(distinct) == len(values) and len(values) == rows:
    return ColumnGuess(name, csv_type, 'ignored', 'a different whole number in every row: an id')
  if kind == 'int' and len(distinct) <= FEW_VALUES:
    numbers = [int(value) for value in distinct]
    if min(numbers) >= 0 and max(numbers) < SMALL_ID_RANGE:
      return ColumnGuess(name, csv_type, 'integer_id',
                         f'{len(distinct)} small whole numbers (at most {max(numbers)}): ids',
                         {'num_ids': max(numbers) + 1})
    return ColumnGuess(name, csv_type, 'vocabulary',
                       f'{len(distinct)} distinct whole numbers: categories',
                       {'top_k': MAX_VOCABULARY, 'oov': 10})
  return ColumnGuess(name, csv_type, 'numeric', f'{len(distinct)} distinct numbers: z-scored')


def _baseline(task: str, kind: str, values: Sequence[str],
              classes: Tuple) -> Tuple[float, str, float]:
  """(naive baseline, how it was measured, blessing threshold): a model must beat the
  baseline by a margin to be blessed."""
  if task == 'regression':
    numbers = [float(value) for value in values]
    mean = sum(numbers) / len(numbers)
    mae = sum(abs(number - mean) for number in numbers) / len(numbers)
    # 10% under the error of always predicting the mean.
    return mae, f'predicting the mean ({mean:.4g}) has mean absolute error {mae:.4g}', 0.9 * mae
  if task == 'binary':
    values = ['1' if float(value) > 0 else '0' for value in values]
  counts = Counter(values)
  majority, count = counts.most_common(1)[0]
  accuracy = count / len(values)
  # A tenth of the way from the majority class to perfect, at least 2 points.
  threshold = min(0.99, accuracy + max(0.02, 0.1 * (1.0 - accuracy)))
  return (accuracy, f'always predicting the majority class {majority!r} is {accuracy:.1%} '
          'accurate', round(threshold, 4))
