"""What `dataset init` decides from a sample of a CSV: each column's type and role, the task,
the classes and the naive baseline the blessing threshold is set against. Pure Python over the
cells (no TensorFlow), so each decision comes with its reason."""

import dataclasses
import datetime
import math
import re
from typing import Dict, List, Optional, Sequence, Tuple

from datadefs import tasks
from datadefs.tabular import csv_files

# Cell texts read as "missing" when seen in a column (besides the empty cell).
MISSING_TEXTS = ('NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', 'None', '?')
SAMPLE_ROWS = 100_000
MAX_VOCABULARY = 1000      # A string column with more distinct values is text or an id.
SMALL_ID_RANGE = 100       # Ints in [0, 100) with few values are ids used as they are.
FEW_VALUES = 50
# A column with values in fewer than this share of the sample rows is ignored.
MOSTLY_EMPTY = 0.01
# An int column named like a time, holding seconds since 1970 from 1973 to 2100, is a date.
EPOCH_SECONDS = (100_000_000, 4_102_444_800)
_TIME_NAME = re.compile(r'time|date|epoch|(^|_)ts($|_)|stamp', re.IGNORECASE)


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
  rows_without_label: int = 0  # sample rows whose label is empty: no examples


def read_sample(path: str, rows: int = SAMPLE_ROWS) -> Tuple[List[str], List[List[str]]]:
  """The header and up to `rows` rows of a .csv or .csv.gz file, each cell as its text ('' when
  empty), read by the pipeline's CSV reader (datadefs/tabular/csv_files.py) with every column
  read as text."""
  header = csv_files.read_header(path)
  as_text = {name: 'string' for name in header}
  sample: List[List[str]] = []
  for batch in csv_files.read_batches(path, as_text):
    columns = [batch.column(name).to_pylist() for name in header]
    sample += [['' if cell is None else cell for cell in row] for row in zip(*columns)]
    if len(sample) >= rows:
      break
  if not sample:
    raise ValueError(f'{path} has a header and no rows: a sample of the data is needed')
  return header, sample[:rows]


def guess(header: Sequence[str], rows: Sequence[Sequence[str]], label: str,
          task: Optional[str] = None) -> Guess:
  if label not in header:
    raise ValueError(f'the label column {label!r} is missing: the CSV header has '
                     f'{list(header)}; give --label one of them')
  cells = {name: [row[index] for row in rows] for index, name in enumerate(header)}
  missing = sorted({text for values in cells.values() for text in values
                    if text in MISSING_TEXTS})
  present = {name: [text for text in values if text != '' and text not in missing]
             for name, values in cells.items()}
  types = {name: _type_of(values) for name, values in present.items()}
  label_type = types[label]
  if not present[label]:
    raise ValueError(f'the label column {label!r} is empty in all {len(rows)} sample rows: a '
                     'row without a label is no example')
  if label_type in ('date', 'datetime'):
    raise ValueError(f'label column {label!r} holds dates: a label is a class or a number')
  kind = tasks.task(task) if task else tasks.infer(label_type, present[label])
  classes = kind.classes_of(present[label], label_type)
  columns = [_role(name, types[name], present[name], len(rows)) if name != label else
             ColumnGuess(label, _csv_type(label_type), 'ignored', 'the label')
             for name in header]
  baseline = kind.baseline(present[label])
  return Guess(columns=columns, task=kind.name, classes=classes, missing_values=tuple(missing),
               baseline=baseline.score, baseline_text=baseline.text,
               threshold=baseline.threshold, rows=len(rows),
               rows_without_label=len(rows) - len(present[label]))


def _type_of(values: Sequence[str]) -> str:
  for kind, parse in (('int', int), ('float', float), ('date', _date), ('datetime', _datetime)):
    try:
      for value in values:
        parse(value)
    except ValueError:
      continue
    if kind == 'float' and not all(math.isfinite(float(value)) for value in values):
      return 'string'
    return kind if values else 'string'
  return 'string'


def _date(text: str) -> datetime.date:
  """A date written year first: 2024-05-31 or 2024/05/31."""
  return datetime.date.fromisoformat(text.replace('/', '-'))


def moment(text: str) -> datetime.datetime:
  """A date or date-time written year first (2024-05-31, 2024/05/31 13:45, ...Z), as a date
  column's values are read."""
  return _datetime(text)


def _datetime(text: str) -> datetime.datetime:
  return datetime.datetime.fromisoformat(
      text.replace('/', '-', 2).replace('Z', '+00:00').replace(' UTC', ''))


def _epoch_seconds(name: str, values: Sequence[str]) -> bool:
  """Whole seconds since 1970 (1973 to 2100), in a column whose name says it is a time."""
  if not _TIME_NAME.search(name):
    return False
  numbers = [int(value) for value in values]
  return min(numbers) >= EPOCH_SECONDS[0] and max(numbers) <= EPOCH_SECONDS[1]


def _date_role(name: str, kind: str, values: Sequence[str]) -> ColumnGuess:
  """The `date` role (transform/dates.py): its years, and whether the values carry a time."""
  if kind == 'int':
    moments = [datetime.datetime.fromtimestamp(int(value), datetime.timezone.utc)
               for value in values]
    what = 'whole seconds since 1970'
    hour = any(int(value) % 86400 for value in values)
  else:
    moments = [_datetime(value) if kind == 'datetime' else _date(value) for value in values]
    what = f'{kind} values'
    hour = kind == 'datetime' and any(
        (moment.hour, moment.minute, moment.second) != (0, 0, 0) for moment in moments)
  years = sorted({moment.year for moment in moments})
  span = f'{years[0]}' if len(years) == 1 else f'{years[0]}-{years[-1]}'
  return ColumnGuess(
      name, _csv_type(kind), 'date',
      f'{what} ({span}): the year as a number, month and day of week as categories'
      + (', and the hour' if hour else ''), {'hour': True} if hour else {})


def _csv_type(kind: str) -> str:
  return {'int': 'int', 'float': 'float'}.get(kind, 'string')


def _role(name: str, kind: str, values: Sequence[str], rows: int) -> ColumnGuess:
  distinct = set(values)
  csv_type = _csv_type(kind)
  if not values:
    return ColumnGuess(name, 'string', 'ignored',
                       f'empty in all {rows} sample rows: nothing to learn from')
  if len(values) < MOSTLY_EMPTY * rows:
    return ColumnGuess(name, csv_type, 'ignored',
                       f'empty in {rows - len(values)} of {rows} sample rows: too few values '
                       'to learn from')
  if len(distinct) == 1:
    return ColumnGuess(name, csv_type, 'ignored', f'one value ({values[0]!r}): nothing to learn')
  if kind in ('date', 'datetime') or (kind == 'int' and _epoch_seconds(name, values)):
    return _date_role(name, kind, values)
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
