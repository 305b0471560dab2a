"""The one CSV reader: headers, typed rows, and the problems of a bad file, by line and column.

Every reader of CSV files uses it: the data pre-check before a run (runs/precheck.py), the
ExampleGen (components/typed_csv_example_gen) and `dataset init` (datadefs/tabular/inference.py),
so a file one accepts the others accept, and a bad file is described in the same words.

A file is read as a standard CSV reader reads it (RFC 4180: quoted fields with commas, quotes
and newlines; CRLF or LF; a UTF-8 byte-order mark skipped), '*.gz' as GZIP. Columns are matched
by name, so files may order them differently, and each is converted to its declared type
('int' -> int64, 'float' -> float32, 'string'). The missing-value rule: an empty cell, or one of
the definition's `missing_values` texts, is missing; anything else must parse as the column's
type, and a float must be finite in 32 bits (tf.Example stores float32).

Rows are read by pyarrow (C++, multi-threaded); when pyarrow refuses a file, the file is read
again line by line with Python's csv module to name each problem's line and column (pyarrow
names neither).

Remote files (gs:// on Vertex) are opened through an `opener` the caller passes (the ExampleGen
passes Beam's file systems), so this module needs neither Beam nor TensorFlow.
"""

import csv
import gzip
import io
import zlib
from typing import BinaryIO, Callable, Iterator, List, Mapping, Optional, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

# Rows per record batch: a block of about this many bytes (~60k taxi rows).
BLOCK_BYTES = 8 << 20
_ARROW_TYPES = {'int': pa.int64(), 'float': pa.float64(), 'string': pa.string()}
_GZIP_MAGIC = b'\x1f\x8b'
_FIX = 'fix the file, or its column declaration'
_KIND_TEXT = {'int': 'a whole number (declared "int")', 'float': 'a number (declared "float")',
              'string': 'text'}
# opener(path, raw): a binary stream of the file's bytes, decompressed ('*.gz') unless raw.
Opener = Callable[[str, bool], BinaryIO]


class CsvInputError(ValueError):
  """A CSV input cannot be read as declared; the message names the file and what to do."""


def open_local(path: str, raw: bool = False) -> BinaryIO:
  """The default opener: a local file, '*.gz' decompressed unless `raw`."""
  if raw or not path.endswith('.gz'):
    return open(path, 'rb')
  return gzip.open(path, 'rb')


def _lines(stream, path: str) -> Iterator[str]:
  """The file's lines, decoded as UTF-8 (the BOM dropped); a line that is not UTF-8 raises."""
  for number, line in enumerate(iter(stream.readline, b''), start=1):
    try:
      yield line.decode('utf-8-sig' if number == 1 else 'utf-8')
    except UnicodeDecodeError as error:
      raise CsvInputError(
          f'{path}: line {number}: not UTF-8 text (byte {line[error.start]:#04x} at '
          f'character {error.start + 1}); re-export the file as UTF-8') from None


def read_header(path: str, opener: Opener = open_local) -> List[str]:
  """The file's header (its first record); CsvInputError for an empty or unreadable file, or
  GZIP data in a file not named '*.gz' (every reader tells compression from the name)."""
  with opener(path, True) as raw:
    magic = raw.read(2)
  if magic == _GZIP_MAGIC and not path.endswith('.gz'):
    raise CsvInputError(f'{path}: holds GZIP data but is not named *.gz; rename it')
  try:
    with opener(path, False) as stream:
      header = next(csv.reader(_lines(stream, path)), None)
  except (OSError, EOFError, zlib.error, csv.Error) as error:
    raise CsvInputError(f'{path}: cannot read the header: {error}') from None
  if not header:
    raise CsvInputError(f'{path}: the file is empty (no header row); remove it or add a header')
  return header


def check_header(path: str, column_types: Mapping[str, str], label: Optional[str] = None,
                 opener: Opener = open_local) -> List[str]:
  """The header, when it has exactly the declared columns (in any order); CsvInputError naming
  the missing (the label said so), undeclared and repeated columns otherwise."""
  header = read_header(path, opener)
  missing = [name for name in column_types if name not in header]
  extra = [name for name in header if name not in column_types]
  repeated = sorted({name for name in header if header.count(name) > 1})
  problems = []
  if label in missing:
    problems.append(f'the label column {label!r} is missing')
    missing.remove(label)
  if missing:
    problems.append(f'missing column(s) {missing}')
  if extra:
    problems.append(f'unexpected column(s) {extra} that the dataset does not declare')
  if repeated:
    problems.append(f'column(s) {repeated} appear more than once in the header')
  if problems:
    raise CsvInputError(
        f'{path}: {"; ".join(problems)}. The header has {header}; every file needs exactly '
        'the declared columns (in any order): fix the file, or the dataset definition')
  return header


def cell_problem(text: str, kind: str, missing_values: Sequence[str] = ()) -> str:
  """Why `text` is not a valid cell of a `kind` column, or '' when it is (the missing-value
  rule: empty, or one of `missing_values`, is missing)."""
  if text == '' or kind == 'string' or text in missing_values:
    return ''
  try:
    value = float(text) if kind == 'float' else int(text)
  except ValueError:
    return f'{text!r} is not {_KIND_TEXT[kind]}'
  if kind == 'int' and not -2**63 <= value < 2**63:
    return f'{text!r} is beyond the range of a 64-bit whole number'
  if kind == 'float':
    with np.errstate(over='ignore'):
      if not np.isfinite(np.float32(value)):
        return (f'{text!r} is not a finite number (NaN, infinity and values beyond +-3.4e38 '
                'are refused: tf.Example stores 32-bit floats)')
  return ''


def read_batches(path: str, column_types: Mapping[str, str], missing_values: Sequence[str] = (),
                 block_bytes: int = BLOCK_BYTES, opener: Opener = open_local,
                 label: Optional[str] = None) -> Iterator[pa.RecordBatch]:
  """The file's rows as record batches of the declared columns: int64, float32 (finite),
  string; nulls for missing cells. CsvInputError names the file, line and column of the first
  bad row."""
  header = check_header(path, column_types, label, opener)
  read_options = pa_csv.ReadOptions(block_size=block_bytes)
  parse_options = pa_csv.ParseOptions(newlines_in_values=True)
  convert_options = pa_csv.ConvertOptions(
      column_types={name: _ARROW_TYPES[kind] for name, kind in column_types.items()},
      include_columns=list(column_types), null_values=['', *missing_values],
      strings_can_be_null=True, quoted_strings_can_be_null=True)
  # Local files through pyarrow's own (C++) GZIP reader.
  quotes = _QuoteCounter(
      pa.input_stream(path, compression='gzip' if path.endswith('.gz') else None)
      if opener is open_local else opener(path, False))
  try:
    with pa.PythonFile(quotes, mode='r') as source, pa_csv.open_csv(
        source, read_options, parse_options, convert_options) as reader:
      for batch in reader:
        yield _float32(batch, path, header, column_types, missing_values, opener)
  except pa.ArrowInvalid as error:
    raise CsvInputError(_first_problem(path, header, column_types, missing_values, opener) or
                        f'{path}: cannot be read as CSV: {str(error).splitlines()[0]}') from None
  except (OSError, EOFError, zlib.error) as error:
    raise CsvInputError(f'{path}: cannot be read: {error}') from None
  finally:
    quotes.close()
  if quotes.count % 2:
    # pyarrow takes an unclosed quote's field to the end of the file, silently.
    line = _unclosed_quote_line(path, opener)
    raise CsvInputError(
        f'{path}: an unbalanced quote: the field quoted {f"at line {line} " if line else ""}'
        'is never closed (RFC 4180: a field with a quote is quoted, its quotes doubled: '
        '"a ""b"" c"); fix the row')


def count_rows(path: str, column_types: Mapping[str, str], missing_values: Sequence[str] = (),
               label: Optional[str] = None) -> int:
  """Rows of a valid file (reading it all, as the ExampleGen will); CsvInputError otherwise."""
  return sum(batch.num_rows for batch in read_batches(path, column_types, missing_values,
                                                      label=label))


def find_problems(path: str, column_types: Mapping[str, str], missing_values: Sequence[str] = (),
                  limit: int = 20, opener: Opener = open_local) -> List[str]:
  """Up to `limit` problems of a file whose header is right, each naming its line (and column):
  malformed rows (a field count other than the header's) and cells the missing-value rule
  refuses. Reads the file line by line."""
  header = read_header(path, opener)
  typed = [(index, name, column_types[name]) for index, name in enumerate(header)
           if name in column_types]
  problems: List[str] = []
  try:
    with opener(path, False) as stream:
      reader = csv.reader(_lines(stream, path))
      next(reader, None)
      line = reader.line_num
      for row in reader:
        start, line = line + 1, reader.line_num
        if len(row) != len(header):
          problems.append(f'{path}: line {start}: malformed row: {len(row)} fields, the header '
                          f'has {len(header)} (an unquoted comma, a missing field or an '
                          'unbalanced quote)')
        else:
          problems += [f'{path}: line {start}: column {name!r}: {problem}; {_FIX}'
                       for index, name, kind in typed
                       for problem in [cell_problem(row[index], kind, missing_values)] if problem]
        if len(problems) >= limit:
          break
  except CsvInputError as error:  # A line that is not UTF-8.
    problems.append(str(error))
  except (OSError, EOFError, zlib.error, csv.Error) as error:
    problems.append(f'{path}: line {line + 1}: not readable as CSV: {error}')
  return problems[:limit]


def _first_problem(path, header, column_types, missing_values, opener) -> Optional[str]:
  found = find_problems(path, column_types, missing_values, limit=1, opener=opener)
  return found[0] if found else None


class _QuoteCounter(io.RawIOBase):
  """A readable binary file passing `stream`'s bytes through, counting double quotes: a valid
  CSV file holds an even number of them (each quoted field two, each escaped quote two)."""

  def __init__(self, stream):
    super().__init__()
    self._stream, self.count = stream, 0

  def readable(self) -> bool:
    return True

  def read(self, size: int = -1) -> bytes:
    data = self._stream.read(size)
    data = data if isinstance(data, bytes) else bytes(data)
    self.count += data.count(b'"')
    return data

  def close(self) -> None:
    if not self.closed:
      self._stream.close()
    super().close()


def _unclosed_quote_line(path: str, opener: Opener) -> Optional[int]:
  """The line where the record holding the unclosed quote starts, counting quotes per line;
  None when the file cannot be re-read."""
  start, quotes = None, 0
  try:
    with opener(path, False) as stream:
      for number, line in enumerate(iter(stream.readline, b''), start=1):
        if quotes % 2 == 0:
          start = number
        quotes += line.count(b'"')
  except (OSError, EOFError, zlib.error):
    return None
  return start if quotes % 2 else None


def _float32(batch: pa.RecordBatch, path: str, header: List[str],
             column_types: Mapping[str, str], missing_values: Sequence[str],
             opener: Opener) -> pa.RecordBatch:
  """`batch` with its float columns as float32, as tf.Example stores them; a value that is NaN,
  infinite, or too large for float32 raises CsvInputError naming its line."""
  arrays = dict(zip(batch.schema.names, batch.columns))
  for name, kind in column_types.items():
    if kind != 'float':
      continue
    with np.errstate(over='ignore', invalid='ignore'):
      values = arrays[name].to_numpy(zero_copy_only=False).astype(np.float32)
    missing = arrays[name].is_null().to_numpy(zero_copy_only=False)
    if not np.isfinite(values[~missing]).all():
      raise CsvInputError(
          _first_problem(path, header, column_types, missing_values, opener) or
          f'{path}: column {name!r}: a value is not a finite 32-bit float; {_FIX}')
    arrays[name] = pa.array(values, pa.float32(), mask=missing if missing.any() else None)
  return pa.RecordBatch.from_arrays(list(arrays.values()), list(arrays))
