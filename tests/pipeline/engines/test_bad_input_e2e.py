"""Bad input stops the run before the Trainer, names the cause, and never touches pushed models.

Each case runs against the pipeline home of `default_run`, which already holds pushed models.
"""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, read_last_run, read_taxi_rows, run_cli, write_csv

pytestmark = pytest.mark.e2e


def tree_digest(root: Path) -> str:
  """A digest of every file's path and bytes under `root`."""
  digest = hashlib.sha256()
  for path in sorted(p for p in root.rglob('*') if p.is_file()):
    digest.update(str(path.relative_to(root)).encode())
    digest.update(path.read_bytes())
  return digest.hexdigest()


@pytest.fixture()
def home_with_pushed_model(default_run):
  home = default_run['home']
  serving = home / 'serving_model'
  assert any(serving.rglob('saved_model.pb')), 'default_run should have pushed a model'
  before = tree_digest(serving)
  yield home
  assert tree_digest(serving) == before, 'a failed run changed the pushed models'


def _rows_sample():
  header, rows = read_taxi_rows()
  return header, rows[:300]


def _missing_column(root):
  header, rows = _rows_sample()
  drop = header.index('company')
  write_csv(root / 'trips.csv', header[:drop] + header[drop + 1:],
            [row[:drop] + row[drop + 1:] for row in rows])


def _text_in_numeric_column(root):
  header, rows = _rows_sample()
  rows[41][header.index('fare')] = 'twelve dollars'
  write_csv(root / 'trips.csv', header, rows)


def _malformed_row(root):
  header, rows = _rows_sample()
  rows[10] = rows[10][:5]
  write_csv(root / 'trips.csv', header, rows)


def _extra_column(root):
  header, rows = _rows_sample()
  write_csv(root / 'trips.csv', header + ['surge'], [row + ['1.5'] for row in rows])


def _nan_in_numeric_column(root):
  header, rows = _rows_sample()
  rows[5][header.index('trip_miles')] = 'NaN'
  write_csv(root / 'trips.csv', header, rows)


def _corrupt_gzip_shard(root):
  """An imported TFRecord folder where one shard is not valid GZIP."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  header, rows = _rows_sample()
  with tf.io.TFRecordWriter(str(root / 'good.tfrecord.gz'), options='GZIP') as writer:
    for row in rows[:10]:
      example = tf.train.Example()
      example.features.feature['company'].bytes_list.value.append(row[header.index(
          'company')].encode())
      writer.write(example.SerializeToString())
  (root / 'bad.tfrecord.gz').write_bytes(b'\x1f\x8b\x08 this is not gzip data')


def _header_only(root):
  header, _ = _rows_sample()
  write_csv(root / 'trips.csv', header, [])


def _empty_file(root):
  (root / 'trips.csv').write_text('')


PREFLIGHT_CASES = {
    'missing_folder': (lambda root: None, 'does not exist'),
    'empty_folder': (lambda root: root.mkdir(), 'is empty'),
    'empty_file': (_empty_file, "trips.csv: the file is empty"),
    'missing_column': (_missing_column, "trips.csv: missing column(s) ['company']"),
    'text_in_numeric_column': (
        _text_in_numeric_column,
        "trips.csv: line 43: column 'fare': 'twelve dollars' is not a number"),
    'malformed_row': (_malformed_row, 'trips.csv: line 12: malformed row: 5 fields'),
    'header_only': (_header_only, 'header only, no data rows'),
    'extra_column': (_extra_column, "trips.csv: unexpected column(s) ['surge']"),
    'nan_in_numeric_column': (_nan_in_numeric_column,
                              "line 7: column 'trip_miles': 'NaN' is not a finite number"),
    'corrupt_gzip_shard': (_corrupt_gzip_shard,
                           'bad.tfrecord.gz is not a valid GZIP TFRecord file of tf.Examples'),
}
EXTRA_ENV = {'corrupt_gzip_shard': {'DATA_SOURCE': 'tfrecord'}}


@pytest.mark.parametrize('case', sorted(PREFLIGHT_CASES))
def test_bad_data_fails_before_any_component(case, tmp_path, home_with_pushed_model):
  make_data, expected = PREFLIGHT_CASES[case]
  data_root = tmp_path / 'data'
  if case != 'missing_folder' and case != 'empty_folder':
    data_root.mkdir()
  make_data(data_root)

  result = run_cli(['run'], home_with_pushed_model, data_root=data_root,
                   extra_env=EXTRA_ENV.get(case))

  assert result.returncode == 1, result.stdout + result.stderr
  assert expected in result.stdout
  summary = read_last_run(home_with_pushed_model)
  assert summary['status'] == 'failed'
  assert summary['pushed_model'] is None
  assert expected in summary['error']
  assert summary['components'] == []  # Stopped before the first component.


def test_unseen_categories_stop_at_gate_before_transform(tmp_path, home_with_pushed_model):
  """Valid CSV, but half the payment_type values are unseen: TFX's own example would train."""
  header, rows = read_taxi_rows()
  rows = rows[:2000]
  column = header.index('payment_type')
  for row in rows[::2]:
    row[column] = 'Bitcoin'
  write_csv(tmp_path / 'data' / 'trips.csv', header, rows)

  result = run_cli(['run'], home_with_pushed_model, data_root=tmp_path / 'data')

  assert result.returncode == 1, result.stdout + result.stderr
  summary = read_last_run(home_with_pushed_model)
  assert summary['status'] == 'failed'
  assert summary['pushed_model'] is None
  assert 'AnomaliesGate failed' in summary['error']
  assert 'payment_type: ENUM_TYPE_UNEXPECTED_STRING_VALUES' in summary['error']
  assert 'payment_type: ENUM_TYPE_UNEXPECTED_STRING_VALUES' in result.stdout
  ran = [c['name'] for c in summary['components']]
  assert ran[-1] == 'AnomaliesGate' and 'Transform' not in ran


@pytest.mark.parametrize('make_data, expected', [
    (_missing_column, "trips.csv: missing column(s) ['company']"),
    (_text_in_numeric_column,
     "trips.csv: line 43: column 'fare': 'twelve dollars' is not a number"),
])
def test_reader_refuses_bad_data_without_preflight(make_data, expected, tmp_path,
                                                 home_with_pushed_model):
  """The tfx CLI path (local_runner.py) has no pre-flight check: the typed CSV reader (the
  ExampleGen, the first component) still refuses the file, naming it, before anything else."""
  (tmp_path / 'data').mkdir()
  make_data(tmp_path / 'data')
  env = dict(os.environ, PIPELINE_HOME=str(home_with_pushed_model),
             DATA_ROOT=str(tmp_path / 'data'))
  result = subprocess.run([sys.executable, 'local_runner.py'], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
  assert result.returncode != 0
  assert 'CsvInputError' in result.stderr
  assert expected in result.stderr, result.stderr[-3000:]
  transform_runs = home_with_pushed_model / 'pipeline_root' / 'Transform'
  assert not transform_runs.exists() or len(list(transform_runs.rglob('transform_graph/*'))) == 1


def test_split_with_no_examples_stops_at_gate(tmp_path, home_with_pushed_model):
  header, rows = read_taxi_rows()
  write_csv(tmp_path / 'data' / 'trips.csv', header, rows[:1])  # One row: one split is empty.
  result = run_cli(['run'], home_with_pushed_model, data_root=tmp_path / 'data')
  assert result.returncode == 1, result.stdout + result.stderr
  summary = read_last_run(home_with_pushed_model)
  assert 'EMPTY_SPLIT' in summary['error'] and 'has no examples' in summary['error']
  assert summary['pushed_model'] is None
  assert 'Transform' not in [c['name'] for c in summary['components']]


def test_label_that_never_varies_stops_before_trainer(tmp_path, home_with_pushed_model):
  """No tips at all: the schema accepts it, but every label is 0 and nothing can be learnt."""
  header, rows = read_taxi_rows()
  rows = rows[::10]  # Spread over the sample, so nothing but the label differs (no drift).
  for row in rows:
    row[header.index('tips')] = '0.0'  # Still a float column, as the schema wants.
  write_csv(tmp_path / 'data' / 'trips.csv', header, rows)
  result = run_cli(['run'], home_with_pushed_model, data_root=tmp_path / 'data')
  assert result.returncode == 1, result.stdout + result.stderr
  summary = read_last_run(home_with_pushed_model)
  assert summary['error'].startswith('LabelGate failed: LabelError:')
  assert "label 'tips_xf' (from column 'tips') is almost one value" in summary['error']
  ran = [c['name'] for c in summary['components']]
  assert 'Trainer' not in ran and ran[-1] == 'LabelGate'
  assert summary['pushed_model'] is None
