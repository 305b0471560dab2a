"""Reading typed CSV files with pyarrow: the files of a pattern, their headers, their rows.

A file is read as a standard CSV reader reads it (RFC 4180: quoted fields with commas, quotes
and newlines; CRLF or LF; a UTF-8 byte-order mark skipped), '*.gz' as GZIP. Columns are matched
by name, so files may order them differently, and each is converted to its declared type; an
empty cell is a missing value. Headers are checked before any Beam job starts; a bad row fails
the read with a CsvInputError naming the file, the line (found by re-reading the file with
Python's csv module: pyarrow does not report it) and the column, and saying what to do.
"""

import csv
import re
import zlib
from typing import Callable, Iterator, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from tfx.dsl.io import fileio

# Rows per record batch: a block of about this many bytes (~60k taxi rows) per Beam element.
BLOCK_BYTES = 8 << 20
_ARROW_TYPES = {'int': pa.int64(), 'float': pa.float64(), 'string': pa.string()}
_COMPRESSED_SUFFIXES = ('.bz2', '.zip', '.zst', '.zstd', '.xz', '.lz4', '.deflate', '.snappy')
_GZIP_MAGIC = b'\x1f\x8b'
_CONVERSION = re.compile(r"In CSV column #(\d+): CSV conversion error to \w+: invalid value '(.*)'",
                         re.S)
_FIELD_COUNT = re.compile(r'Expected (\d+) columns, got (\d+)')
_FIX = 'fix the file, or its column_types declaration'


class CsvInputError(ValueError):
  """A CSV input cannot be read as declared; the message names the file and what to do."""


def list_files(pattern: str) -> List[str]:
  """The files matching `pattern` (folders left out), sorted; refuses compressions other than
  GZIP, which would be read as garbled text."""
  files = sorted(path for path in fileio.glob(pattern) if not fileio.isdir(path))
  if not files:
    raise CsvInputError(f'no files match {pattern}: check input_base and input_config')
  unreadable = [path for path in files if path.lower().endswith(_COMPRESSED_SUFFIXES)]
  if unreadable:
    raise CsvInputError(f'{unreadable[0]}: only plain CSV and GZIP-compressed CSV (*.gz) '
                        'files can be read; decompress it or recompress it with gzip')
  return files


def _open(path: str, raw: bool = False):
  """A binary stream of the file's text ('*.gz' decompressed, unless `raw`)."""
  kind = CompressionTypes.UNCOMPRESSED if raw or not path.endswith('.gz') else CompressionTypes.GZIP
  return FileSystems.open(path, compression_type=kind)


def _lines(stream, path: str) -> Iterator[str]:
  """The file's lines, decoded as UTF-8 (the BOM dropped); a line that is not UTF-8 raises."""
  for number, line in enumerate(iter(stream.readline, b''), start=1):
    try:
      yield line.decode('utf-8-sig' if number == 1 else 'utf-8')
    except UnicodeDecodeError as error:
      raise CsvInputError(
          f'{path}: line {number}: not UTF-8 text (byte {line[error.start]:#04x} at '
          f'character {error.start + 1}); re-export the file as UTF-8') from None


def check_header(path: str, column_types: Mapping[str, str]) -> List[str]:
  """Reads the file's header (first record); raises CsvInputError naming the file when it
  misses a declared column, holds an undeclared or repeated one, or cannot be read."""
  with _open(path, raw=True) as raw:
    magic = raw.read(2)
  if magic == _GZIP_MAGIC and not path.endswith('.gz'):
    raise CsvInputError(f'{path}: holds GZIP data but is not named *.gz; rename it')
  try:
    with _open(path) as stream:
      header = next(csv.reader(_lines(stream, path)), None)
  except (OSError, EOFError, zlib.error, csv.Error) as error:
    raise CsvInputError(f'{path}: cannot read the header: {error}') from None
  if not header:
    raise CsvInputError(f'{path}: the file is empty (no header row); remove it or add a header')
  missing = [name for name in column_types if name not in header]
  extra = [name for name in header if name not in column_types]
  repeated = sorted({name for name in header if header.count(name) > 1})
  problems = []
  if missing:
    problems.append(f'missing column(s) {missing}')
  if extra:
    problems.append(f'unexpected column(s) {extra} that column_types does not declare')
  if repeated:
    problems.append(f'column(s) {repeated} appear more than once in the header')
  if problems:
    raise CsvInputError(
        f'{path}: {"; ".join(problems)}. The header has {header}; every file needs exactly '
        'the declared columns (in any order): fix the file, or column_types')
  return header


def read_batches(path: str, column_types: Mapping[str, str],
                 block_bytes: int = BLOCK_BYTES,
                 missing_values: Sequence[str] = ()) -> Iterator[pa.RecordBatch]:
  """The file's rows as record batches of the declared columns: int64, float32 (finite), string;
  nulls for empty cells and `missing_values` texts. Raises CsvInputError naming the file, line and column of a bad row."""
  header = check_header(path, column_types)
  read_options = pa_csv.ReadOptions(block_size=block_bytes)
  parse_options = pa_csv.ParseOptions(newlines_in_values=True)
  convert_options = pa_csv.ConvertOptions(
      column_types={name: _ARROW_TYPES[kind] for name, kind in column_types.items()},
      include_columns=list(column_types), null_values=['', *missing_values],
      strings_can_be_null=True,
      quoted_strings_can_be_null=True)
  try:
    text = _QuoteCounter(
        pa.input_stream(path, compression='gzip' if path.endswith('.gz') else None)
        if '://' not in path else _open(path))
    with pa.PythonFile(text, mode='r') as source, pa_csv.open_csv(
        source, read_options, parse_options, convert_options) as reader:
      for batch in reader:
        yield _finite_float32(batch, path, header, column_types)
    if text.quotes % 2:
      # pyarrow takes an unclosed quote's field to the end of the file, silently.
      line = _unclosed_quote_line(path)
      raise CsvInputError(
          f'{path}: an unbalanced quote: the field quoted {f"at line {line} " if line else ""}'
          'is never closed (RFC 4180: a field with a quote is quoted, its quotes doubled: '
          '"a ""b"" c"); fix the row')
  except pa.ArrowInvalid as error:
    raise CsvInputError(_describe(path, header, column_types, str(error))) from None
  except (OSError, EOFError, zlib.error) as error:
    raise CsvInputError(f'{path}: cannot be read: {error}') from None


class _QuoteCounter:
  """A readable binary file passing `stream`'s bytes through, counting double quotes: a valid
  CSV file holds an even number of them (each quoted field two, each escaped quote two)."""

  def __init__(self, stream):
    self._stream, self.quotes, self.closed = stream, 0, False

  def read(self, size: int = -1) -> bytes:
    data = self._stream.read(size)
    data = data if isinstance(data, bytes) else bytes(data)
    self.quotes += data.count(b'"')
    return data

  def readable(self) -> bool:
    return True

  def close(self) -> None:
    self.closed = True
    self._stream.close()


def _unclosed_quote_line(path: str) -> Optional[int]:
  """The line where the record holding the unclosed quote starts, counting quotes per line as
  CsvExampleGen does; None when the file cannot be re-read."""
  start, quotes = None, 0
  try:
    with _open(path) as stream:
      for number, line in enumerate(iter(stream.readline, b''), start=1):
        if quotes % 2 == 0:
          start = number
        quotes += line.count(b'"')
  except (OSError, EOFError, zlib.error):
    return None
  return start if quotes % 2 else None


def _finite_float32(batch: pa.RecordBatch, path: str, header: List[str],
                    column_types: Mapping[str, str]) -> pa.RecordBatch:
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
      index = header.index(name)
      where = _locate_in(path, header, lambda row, i=index: _not_finite32(row[i]))
      where = where if where and len(where[2]) == len(header) else None
      line = f'line {where[0]}: ' if where else ''
      value = f'{where[2][index]!r} ' if where else ''
      raise CsvInputError(
          f'{path}: {line}column {name!r}: {value}is not a finite 32-bit float (NaN, infinity '
          f'and values beyond +-3.4e38 are refused); {_FIX}')
    arrays[name] = pa.array(values, pa.float32(), mask=missing if missing.any() else None)
  return pa.RecordBatch.from_arrays(list(arrays.values()), list(arrays))


def _not_finite32(text: str) -> bool:
  try:
    with np.errstate(over='ignore'):
      return text != '' and not np.isfinite(np.float32(float(text)))
  except ValueError:
    return False


def _describe(path: str, header: List[str], column_types: Mapping[str, str],
              arrow_message: str) -> str:
  """A message naming the file, line and column of pyarrow's error, found by re-reading the
  file with Python's csv module (pyarrow names neither the line nor the column by name)."""
  conversion = _CONVERSION.search(arrow_message)
  index = int(conversion.group(1)) if conversion else None
  try:
    where = _locate_in(path, header, lambda row: index is not None and (
        row[index] == conversion.group(2)))
  except CsvInputError as error:  # A line that is not UTF-8: the clearest description.
    return str(error)
  if where and len(where[2]) != len(header):
    return (f'{path}: line {where[0]}: malformed row: {len(where[2])} fields, the header has '
            f'{len(header)} (an unquoted comma, a missing field or an unbalanced quote); fix '
            'the row')
  if conversion:
    column = header[index]
    line = f'line {where[0]}: ' if where else ''
    return (f'{path}: {line}column {column!r}: {conversion.group(2)!r} is not '
            f'{_KIND_TEXT[column_types[column]]}; {_FIX}')
  field_count = _FIELD_COUNT.search(arrow_message)
  if field_count:
    return (f'{path}: malformed row: {field_count.group(2)} fields, the header has '
            f'{field_count.group(1)}; fix the row')
  if 'invalid UTF8' in arrow_message:
    return f'{path}: not UTF-8 text; re-export the file as UTF-8'
  return f'{path}: cannot be read as CSV: {arrow_message.splitlines()[0]}'


_KIND_TEXT = {'int': 'a whole number (declared "int")', 'float': 'a number (declared "float")',
              'string': 'text'}


def _locate_in(path: str, header: List[str],
               matches: Callable[[List[str]], bool]) -> Optional[Tuple[int, int, List[str]]]:
  """(first line, last line, fields) of the first row, after the header, whose field count
  differs from the header's or that `matches`; None when there is none or the file cannot be
  re-read. Raises CsvInputError for a line that is not UTF-8."""
  try:
    with _open(path) as stream:
      reader = csv.reader(_lines(stream, path))
      next(reader, None)
      line = reader.line_num
      for row in reader:
        start, line = line + 1, reader.line_num
        if row and (len(row) != len(header) or matches(row)):
          return start, line, row
  except (OSError, EOFError, zlib.error, csv.Error):
    pass  # The caller keeps pyarrow's description.
  return None
