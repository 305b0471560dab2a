"""The data pre-check (runs/precheck.py) names file, line and column for each problem."""

from pathlib import Path

import pytest

import datadefs
from runs import precheck
from tests.conftest import EMBEDDED_DATA_ROOT, read_taxi_rows, write_csv

TAXI = datadefs.load('taxi')


@pytest.fixture()
def good_rows():
  header, rows = read_taxi_rows()
  return header, rows[:50]


def test_embedded_data_passes():
  assert precheck.check_data_root(EMBEDDED_DATA_ROOT, TAXI) == 1


def test_missing_folder(tmp_path):
  with pytest.raises(precheck.DataCheckError, match='does not exist'):
    precheck.check_data_root(str(tmp_path / 'nope'), TAXI)


def test_a_file_instead_of_a_folder(tmp_path):
  (tmp_path / 'a.csv').write_text('x')
  with pytest.raises(precheck.DataCheckError, match='is not a folder'):
    precheck.check_data_root(str(tmp_path / 'a.csv'), TAXI)


def test_empty_folder(tmp_path):
  with pytest.raises(precheck.DataCheckError, match='is empty'):
    precheck.check_data_root(str(tmp_path), TAXI)


def test_non_csv_file_is_named(tmp_path, good_rows):
  write_csv(tmp_path / 'trips.csv', *good_rows)
  (tmp_path / 'notes.txt').write_text('hello')
  with pytest.raises(precheck.DataCheckError, match=r"not \.csv or \.csv\.gz: \['notes.txt'\]"):
    precheck.check_data_root(str(tmp_path), TAXI)


def test_missing_and_extra_columns(tmp_path, good_rows):
  header, rows = good_rows
  header = ['surcharge' if name == 'tips' else name for name in header]
  write_csv(tmp_path / 'trips.csv', header, rows)
  with pytest.raises(precheck.DataCheckError) as error:
    precheck.check_data_root(str(tmp_path), TAXI)
  # tips is the label column: said so, rather than as one of the missing columns.
  assert "trips.csv: the label column 'tips' is missing" in str(error.value)
  assert ("unexpected column(s) ['surcharge'] that the dataset does not declare"
          in str(error.value))
  assert str(error.value).startswith("the input data does not match dataset 'taxi':")


@pytest.mark.parametrize('column, value, message', [
    ('fare', 'abc', "column 'fare': 'abc' is not a number"),
    ('trip_seconds', '12.5', "column 'trip_seconds': '12.5' is not a whole number"),
    ('tips', 'inf', "column 'tips': 'inf' is not a finite number"),
    ('trip_miles', 'nan', "column 'trip_miles': 'nan' is not a finite number"),
])
def test_bad_values_name_file_line_and_column(tmp_path, good_rows, column, value, message):
  header, rows = good_rows
  rows[7][header.index(column)] = value
  write_csv(tmp_path / 'trips.csv', header, rows)
  with pytest.raises(precheck.DataCheckError, match='trips.csv: line 9: ' + message):
    precheck.check_data_root(str(tmp_path), TAXI)


def test_empty_cells_are_missing_values_not_errors(tmp_path, good_rows):
  header, rows = good_rows
  rows[3][header.index('fare')] = ''
  write_csv(tmp_path / 'trips.csv', header, rows)
  assert precheck.check_data_root(str(tmp_path), TAXI) == 1


def test_malformed_row(tmp_path, good_rows):
  header, rows = good_rows
  rows[0] = rows[0] + ['surplus']
  write_csv(tmp_path / 'trips.csv', header, rows)
  with pytest.raises(precheck.DataCheckError, match='line 2: malformed row: 19 fields'):
    precheck.check_data_root(str(tmp_path), TAXI)


def test_header_only_file_beside_data_is_fine_but_alone_is_not(tmp_path, good_rows):
  header, rows = good_rows
  write_csv(tmp_path / 'b_empty.csv', header, [])
  with pytest.raises(precheck.DataCheckError, match='header only, no data rows'):
    precheck.check_data_root(str(tmp_path), TAXI)
  write_csv(tmp_path / 'a_trips.csv', header, rows)
  assert precheck.check_data_root(str(tmp_path), TAXI) == 2


def test_problem_list_is_bounded(tmp_path, good_rows):
  header, rows = good_rows
  for row in rows:
    row[header.index('fare')] = 'x'
  write_csv(tmp_path / 'trips.csv', header, rows)
  with pytest.raises(precheck.DataCheckError) as error:
    precheck.check_data_root(str(tmp_path), TAXI)
  assert str(error.value).count("column 'fare'") == precheck.MAX_PROBLEMS_LISTED
  assert str(error.value).endswith(
      f'... and more (first {precheck.MAX_PROBLEMS_LISTED} shown)')


def test_checking_csv_files_does_not_start_tensorflow(tmp_path, good_rows):
  """Bad CSVs are named without waiting seconds for TensorFlow and TFX to import."""
  import subprocess  # pylint: disable=import-outside-toplevel
  import sys  # pylint: disable=import-outside-toplevel
  from tests.conftest import REPO_ROOT  # pylint: disable=import-outside-toplevel
  empty, bad = tmp_path / 'empty', tmp_path / 'bad'
  empty.mkdir()
  header, rows = good_rows
  rows[0][header.index('fare')] = 'abc'
  write_csv(bad / 'trips.csv', header, rows)
  script = ('import sys\n'
            'import datadefs\n'
            'from runs import precheck\n'
            f'for folder in ({str(empty)!r}, {str(bad)!r}):\n'
            '  try:\n'
            "    precheck.check_data_root(folder, datadefs.load('taxi'))\n"
            '  except precheck.DataCheckError as error:\n'
            '    print(error)\n'
            "print(sorted({'tensorflow', 'tfx'} & set(sys.modules)))\n")
  result = subprocess.run([sys.executable, '-c', script], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
  assert result.stdout.splitlines() == [
      f'data folder {empty} is empty: put one or more data files in it',
      "the input data does not match dataset 'taxi':",
      f"  {bad / 'trips.csv'}: line 2: column 'fare': 'abc' is not a number (declared "
      '"float"); fix the file, or its column declaration',
      '[]']


def test_real_export_shapes_pass_the_check(tmp_path):
  """What the CSV reader reads (datadefs/tabular/csv_files.py, the ExampleGen's) the check accepts:
  .csv.gz, a UTF-8 BOM, CRLF, columns in another order, quoted fields with commas."""
  import csv as csv_lib  # pylint: disable=import-outside-toplevel
  import gzip  # pylint: disable=import-outside-toplevel
  header, rows = read_taxi_rows()
  rows = rows[:50]
  company = header.index('company')
  rows[0][company] = 'Taxi, Inc.'
  order = list(reversed(header))
  with gzip.open(tmp_path / 'a.csv.gz', 'wt', newline='', encoding='utf-8-sig') as f:
    writer = csv_lib.writer(f, lineterminator='\r\n', quoting=csv_lib.QUOTE_ALL)
    writer.writerow(order)
    writer.writerows([[row[header.index(name)] for name in order] for row in rows])
  with (tmp_path / 'b.csv').open('w', newline='', encoding='utf-8-sig') as f:
    csv_lib.writer(f, lineterminator='\r\n').writerows([header] + rows)
  assert precheck.check_data_root(str(tmp_path), TAXI) == 2


def test_checks_against_the_chosen_datasets_columns_and_missing_values(tmp_path):
  import datadefs  # pylint: disable=import-outside-toplevel
  penguins = datadefs.load('penguins')
  source = Path(datadefs.data_root(penguins)) / 'penguins.csv'
  (tmp_path / 'penguins.csv').write_text(source.read_text())  # Has 'NA' cells: declared.
  assert precheck.check_data_root(str(tmp_path), penguins) == 1
  with pytest.raises(precheck.DataCheckError,
                     match="the input data does not match dataset 'taxi':"):
    precheck.check_data_root(str(tmp_path), TAXI)
