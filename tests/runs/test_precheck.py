"""The CSV pre-flight check names file, line and column for each problem."""

from pathlib import Path

import pytest

from runs import precheck as preflight
from tests.conftest import read_taxi_rows, write_csv


@pytest.fixture()
def good_rows():
  header, rows = read_taxi_rows()
  return header, rows[:50]


def test_embedded_data_passes():
  from pipeline.local import config
  assert preflight.check_data_root(config.EMBEDDED_DATA_ROOT) == 1


def test_missing_folder(tmp_path):
  with pytest.raises(preflight.DataCheckError, match='does not exist'):
    preflight.check_data_root(str(tmp_path / 'nope'))


def test_a_file_instead_of_a_folder(tmp_path):
  (tmp_path / 'a.csv').write_text('x')
  with pytest.raises(preflight.DataCheckError, match='is not a folder'):
    preflight.check_data_root(str(tmp_path / 'a.csv'))


def test_empty_folder(tmp_path):
  with pytest.raises(preflight.DataCheckError, match='is empty'):
    preflight.check_data_root(str(tmp_path))


def test_non_csv_file_is_named(tmp_path, good_rows):
  write_csv(tmp_path / 'trips.csv', *good_rows)
  (tmp_path / 'notes.txt').write_text('hello')
  with pytest.raises(preflight.DataCheckError, match=r"not \.csv or \.csv\.gz: \['notes.txt'\]"):
    preflight.check_data_root(str(tmp_path))


def test_missing_and_extra_columns(tmp_path, good_rows):
  header, rows = good_rows
  header = ['surcharge' if name == 'tips' else name for name in header]
  write_csv(tmp_path / 'trips.csv', header, rows)
  with pytest.raises(preflight.DataCheckError) as error:
    preflight.check_data_root(str(tmp_path))
  assert "trips.csv: missing column(s) ['tips']" in str(error.value)
  assert "trips.csv: unexpected column(s) ['surcharge']" in str(error.value)


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
  with pytest.raises(preflight.DataCheckError, match='trips.csv: line 9: ' + message):
    preflight.check_data_root(str(tmp_path))


def test_empty_cells_are_missing_values_not_errors(tmp_path, good_rows):
  header, rows = good_rows
  rows[3][header.index('fare')] = ''
  write_csv(tmp_path / 'trips.csv', header, rows)
  assert preflight.check_data_root(str(tmp_path)) == 1


def test_malformed_row(tmp_path, good_rows):
  header, rows = good_rows
  rows[0] = rows[0] + ['surplus']
  write_csv(tmp_path / 'trips.csv', header, rows)
  with pytest.raises(preflight.DataCheckError, match='line 2: malformed row: 19 fields'):
    preflight.check_data_root(str(tmp_path))


def test_header_only_file_beside_data_is_fine_but_alone_is_not(tmp_path, good_rows):
  header, rows = good_rows
  write_csv(tmp_path / 'b_empty.csv', header, [])
  with pytest.raises(preflight.DataCheckError, match='header only, no data rows'):
    preflight.check_data_root(str(tmp_path))
  write_csv(tmp_path / 'a_trips.csv', header, rows)
  assert preflight.check_data_root(str(tmp_path)) == 2


def test_problem_list_is_bounded(tmp_path, good_rows):
  header, rows = good_rows
  for row in rows:
    row[header.index('fare')] = 'x'
  write_csv(tmp_path / 'trips.csv', header, rows)
  with pytest.raises(preflight.DataCheckError) as error:
    preflight.check_data_root(str(tmp_path))
  assert str(error.value).count("column 'fare'") == preflight._MAX_PROBLEMS_LISTED  # pylint: disable=protected-access


def test_checking_csv_files_does_not_start_tensorflow(tmp_path):
  """Bad CSVs are named without waiting seconds for TensorFlow and TFX to import."""
  import subprocess  # pylint: disable=import-outside-toplevel
  import sys  # pylint: disable=import-outside-toplevel
  from tests.conftest import REPO_ROOT  # pylint: disable=import-outside-toplevel
  script = ('import sys\n'
            'from runs import precheck as preflight\n'
            'try:\n'
            f'  preflight.check_data_root({str(tmp_path)!r})\n'
            'except preflight.DataCheckError as error:\n'
            '  print(error)\n'
            "print(sorted({'tensorflow', 'tfx'} & set(sys.modules)))\n")
  result = subprocess.run([sys.executable, '-c', script], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
  assert result.stdout.splitlines() == [f'data folder {tmp_path} is empty: put one or more '
                                        'data files in it', '[]']


def test_real_export_shapes_pass_the_check(tmp_path):
  """What the typed CSV reader reads (components/typed_csv_example_gen) the check accepts:
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
  assert preflight.check_data_root(str(tmp_path)) == 2



def test_checks_against_the_chosen_datasets_columns_and_missing_values(tmp_path):
  import datadefs  # pylint: disable=import-outside-toplevel
  penguins = datadefs.load('penguins')
  source = Path(datadefs.data_root(penguins)) / 'penguins.csv'
  (tmp_path / 'penguins.csv').write_text(source.read_text())  # Has 'NA' cells: declared.
  assert preflight.check_data_root(str(tmp_path), penguins) == 1
  with pytest.raises(preflight.DataCheckError,
                     match="does not match the columns of dataset 'taxi'"):
    preflight.check_data_root(str(tmp_path))  # The default dataset: taxi.
