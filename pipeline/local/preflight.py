"""Checks a CSV data folder against the dataset definition before any component runs.

CsvExampleGen reads every file in the folder and infers types from the values; a bad file then
surfaces as an anomaly with no file name, or deep inside Transform. This check names the file,
line and column instead. It reads each file once, streaming, and changes nothing.
"""

import csv
import gzip
import math
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import datasets
from datasets.definition import Dataset

_MAX_PROBLEMS_LISTED = 20
_PYTHON_TYPES = {'int': int, 'float': float, 'string': str}


class DataCheckError(ValueError):
  """The data folder cannot be used; the message names every problem found (up to a limit)."""


def _parse_error(text: str, kind: type, missing_values: Sequence[str] = ()) -> str:
  """Returns why `text` is not a valid `kind` value, or '' when it is (empty, or one of
  `missing_values`, means missing)."""
  if text == '' or kind is str or text in missing_values:
    return ''
  try:
    value = float(text) if kind is float else int(text)
  except ValueError:
    return f'{text!r} is not {"a number" if kind is float else "a whole number"}'
  if kind is float and not math.isfinite(value):
    return f'{text!r} is not a finite number'
  return ''


def _open_csv(path: Path):
  """Text of a .csv or .csv.gz file, a UTF-8 byte-order mark dropped (as the reader does)."""
  if path.name.lower().endswith('.gz'):
    return gzip.open(path, 'rt', newline='', encoding='utf-8-sig', errors='strict')
  return path.open(newline='', encoding='utf-8-sig', errors='strict')


def check_csv_file(path: Path, column_types: Dict[str, type],
                   missing_values: Sequence[str] = ()) -> List[str]:
  """Returns the problems found in one CSV file (empty list: the file is fine)."""
  with _open_csv(path) as f:
    reader = csv.reader(f)
    try:
      header = next(reader)
    except StopIteration:
      return [f'{path}: the file is empty (no header row)']
    except (csv.Error, UnicodeDecodeError, OSError, EOFError) as error:
      return [f'{path}: line 1: not readable as CSV: {error}']
    problems = []
    missing = [name for name in column_types if name not in header]
    if missing:
      problems.append(f'{path}: missing column(s) {missing}')
    extra = [name for name in header if name not in column_types]
    if extra:
      problems.append(f'{path}: unexpected column(s) {extra} (not declared in the dataset definition)')
    if problems:
      return problems
    if _rows_valid_fast(path, header, column_types, missing_values):
      return []
    typed_columns = [(index, name, column_types[name]) for index, name in enumerate(header)]
    rows = 0
    try:
      for row in reader:
        rows += 1
        line = reader.line_num
        if len(row) != len(header):
          problems.append(f'{path}: line {line}: malformed row: {len(row)} fields, '
                          f'the header has {len(header)}')
        else:
          for index, name, kind in typed_columns:
            error = _parse_error(row[index], kind, missing_values)
            if error:
              problems.append(f'{path}: line {line}: column {name!r}: {error}')
        if len(problems) >= _MAX_PROBLEMS_LISTED:
          break
    except (csv.Error, UnicodeDecodeError, OSError, EOFError) as error:
      problems.append(f'{path}: line {reader.line_num + 1}: not readable as CSV: {error}')
    if rows == 0 and not problems:
      problems.append(f'{path}: header only, no data rows')
  return problems


def _rows_valid_fast(path: Path, header: List[str], column_types: Dict[str, type],
                     missing_values: Sequence[str]) -> bool:
  """True when pyarrow reads every row with the declared types and every float is finite.

  Seconds for a million rows, where the line-by-line check below takes minutes; anything pyarrow
  is unsure of (an error, no rows, a non-finite float) sends the file through that check, which
  has the final word and names each problem by line and column.
  """
  import pyarrow as pa  # pylint: disable=import-outside-toplevel; ~0.2 s, only for CSV checks
  import pyarrow.compute as pc  # pylint: disable=import-outside-toplevel
  import pyarrow.csv as pa_csv  # pylint: disable=import-outside-toplevel
  arrow_types = {int: pa.int64(), float: pa.float64(), str: pa.string()}
  try:
    table = pa_csv.read_csv(
        str(path), parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(
            column_types={name: arrow_types[column_types[name]] for name in header},
            # Only an empty cell, or a declared missing-value text, is missing.
            null_values=['', *missing_values], strings_can_be_null=True))
  except (pa.ArrowInvalid, OSError, UnicodeDecodeError, EOFError):
    return False
  if table.num_rows == 0 or table.column_names != header:
    return False
  return all(pc.all(pc.is_finite(table[name])).as_py() in (True, None)
             for name in header if column_types[name] is float)


def check_data_root(data_root: str, dataset: Optional[Dataset] = None, *,
                    input_pattern: Optional[str] = None, source: str = 'csv') -> int:
  """Raises DataCheckError naming every problem; returns the number of files checked.

  With `input_pattern` (e.g. 'span-{SPAN}/*.csv') only the newest span's files are checked:
  the ones ExampleGen will read.
  """
  dataset = dataset or datasets.load()
  root = Path(data_root)
  if not root.exists():
    raise DataCheckError(f'data folder {root} does not exist')
  if not root.is_dir():
    raise DataCheckError(f'data root {root} is not a folder (give the folder holding the data)')
  if input_pattern:
    sources = _sources_module()
    try:
      _, names = sources.resolve_input_files(str(root), input_pattern)
    except FileNotFoundError as error:
      raise DataCheckError(str(error)) from None
    files = [Path(name) for name in names]
    if not files:
      raise DataCheckError(f'no files match {input_pattern!r} under {root}')
  else:
    files = sorted(p for p in root.iterdir() if p.is_file() and not p.name.startswith('.'))
    if not files:
      raise DataCheckError(f'data folder {root} is empty: put one or more data files in it')
  if source == 'tfrecord':
    try:
      _sources_module().check_tfrecord_files([str(p) for p in files])
    except ValueError as error:
      raise DataCheckError(str(error)) from None
    return len(files)
  return _check_csv_files(root, files, dataset)


def _sources_module():
  """pipeline.sources, imported only when a check needs it: it imports TensorFlow and TFX
  (seconds of start-up), which checking a folder of CSV files does not, so bad CSVs are named
  at once. The caller runs the check inside the log redirect, so TensorFlow's start-up output
  goes to the log file."""
  from pipeline import sources  # pylint: disable=import-outside-toplevel
  return sources


def _check_csv_files(root: Path, files: List[Path], dataset: Dataset) -> int:
  column_types = {name: _PYTHON_TYPES[kind] for name, kind in dataset.column_types.items()}
  not_csv = [p.name for p in files if not p.name.lower().endswith(('.csv', '.csv.gz'))]
  if not_csv:
    raise DataCheckError(
        f'data folder {root} holds files that are not .csv or .csv.gz: {not_csv}; the '
        'ExampleGen reads every file in the folder, so move them out')
  problems = []
  for path in files:
    problems += check_csv_file(path, column_types, dataset.missing_values)
  header_only = [p for p in problems if p.endswith('header only, no data rows')]
  if len(header_only) < len(files):
    # A header-only file next to files with data is harmless; only all-empty data is an error.
    problems = [p for p in problems if p not in header_only]
  if problems:
    listed = problems[:_MAX_PROBLEMS_LISTED]
    more = f'\n  ... and more (first {_MAX_PROBLEMS_LISTED} shown)' if len(problems) > len(
        listed) else ''
    raise DataCheckError(f'the input data does not match the columns of dataset '
                         f'{dataset.name!r}:\n  ' +
                         '\n  '.join(listed) + more)
  return len(files)
