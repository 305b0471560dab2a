"""Reading artifact files with protobufs alone (runs/report/readers.py)."""

import gzip
import json
import struct
import subprocess
import sys

import pytest

from runs.report import model_view
from runs.report import readers
from tests.conftest import REPO_ROOT


def _record(payload: bytes) -> bytes:
  return struct.pack('<Q', len(payload)) + b'\0' * 4 + payload + b'\0' * 4


def test_records_reads_plain_and_gzip_tfrecords(tmp_path):
  data = _record(b'one') + _record(b'') + _record(b'three')
  (tmp_path / 'plain').write_bytes(data)
  (tmp_path / 'zipped').write_bytes(gzip.compress(data))
  assert list(readers.records(tmp_path / 'plain')) == [b'one', b'', b'three']
  assert list(readers.records(tmp_path / 'zipped')) == [b'one', b'', b'three']


def test_records_names_the_file_of_a_truncated_record(tmp_path):
  path = tmp_path / 'broken.tfrecord'
  path.write_bytes(_record(b'complete')[:-6])
  with pytest.raises(readers.ReportDataError, match='broken.tfrecord: truncated'):
    list(readers.records(path))


def test_split_statistics_reads_each_split_train_first(uris):
  stats = readers.split_statistics(str(uris['statistics']))
  assert list(stats) == ['train', 'eval']
  assert stats['train'].num_examples == 100 and stats['eval'].num_examples == 50


def test_load_statistics_names_a_file_that_is_not_statistics(tmp_path):
  path = tmp_path / 'FeatureStats.pb'
  path.write_bytes(b'\xff\xff not a proto')
  with pytest.raises(readers.ReportDataError, match='FeatureStats.pb: not a'):
    readers.load_statistics(path)


def test_split_anomalies_reads_schema_diffs(tmp_path):
  from tests.runs.report import fixtures  # pylint: disable=import-outside-toplevel
  found = readers.split_anomalies(str(fixtures.write_anomalies(tmp_path, True)))
  assert set(found) == {'train', 'eval'}
  assert 'company' in found['eval'].anomaly_info


def test_scalars_reads_tf_summary_event_files_by_folder(uris):
  found = readers.scalars(str(uris['model_run']))
  assert set(found) == {'train', 'validation', 'input'}
  assert [(s.step, round(s.value, 4)) for s in found['train']['epoch_loss']] == [(0, 0.6), (1, 0.4)]
  assert [round(s.value, 4) for s in found['input']['input/wait_share']] == [0.05, 0.05]


def test_scalars_of_a_missing_folder_is_empty(tmp_path):
  assert readers.scalars(str(tmp_path / 'nothing')) == {}


def test_eval_metrics_reads_every_slice_and_model(uris):
  metrics = readers.eval_metrics(str(uris['evaluation']))
  overall = {(m.model, m.name, m.is_diff): round(m.value, 4) for m in metrics
             if m.slice == 'Overall'}
  assert overall[('candidate', 'binary_accuracy', False)] == 0.8
  assert overall[('baseline', 'binary_accuracy', False)] == 0.75
  assert overall[('candidate', 'binary_accuracy', True)] == 0.05
  assert {m.slice for m in metrics} == {'Overall', 'trip_start_hour=8'}


def test_reading_metrics_imports_neither_tfma_nor_tensorflow(uris):
  """TFMA takes 10-20 s to import: the report reads its protos without it (fresh process:
  this session has imported TensorFlow to write the fixtures)."""
  code = ('import sys; from runs.report import readers; '
          f'assert readers.eval_metrics({str(uris["evaluation"])!r}); '
          f'readers.scalars({str(uris["model_run"])!r}); '
          'print(sorted(m for m in ("tensorflow", "tensorflow_model_analysis") '
          'if m in sys.modules))')
  result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          check=True, cwd=REPO_ROOT)
  assert result.stdout.strip() == '[]'


def test_eval_config_reads_the_evaluators_json(uris, tmp_path):
  config = readers.eval_config(str(uris['evaluation']))
  assert config['metricsSpecs'][0]['metrics'][1]['className'] == 'BinaryAccuracy'
  assert readers.eval_config(str(tmp_path)) == {}


def test_load_schema_names_a_bad_file(tmp_path):
  path = tmp_path / 'schema.pbtxt'
  path.write_text('feature { nonsense: 1 }')
  with pytest.raises(readers.ReportDataError, match='schema.pbtxt: not a text Schema'):
    readers.load_schema(path)


def test_an_empty_uri_is_no_artifact_not_the_working_directory(tmp_path, monkeypatch, uris):
  import shutil  # pylint: disable=import-outside-toplevel
  shutil.copytree(uris['evaluation'], tmp_path, dirs_exist_ok=True)
  monkeypatch.chdir(tmp_path)  # metrics files right here must not be read for ''
  assert readers.eval_metrics('') == [] and readers.eval_config('') == {}
  assert readers.split_statistics('') == {} and readers.scalars('') == {}


def test_blessing_metric_is_the_metric_with_a_value_threshold_and_its_overall_value(
    uris, tmp_path):
  # The candidate's overall value: not the baseline's (0.75), the diff (0.05) or a slice's.
  assert model_view.blessing_metric(str(uris['evaluation'])) == ('binary_accuracy', 0.8)
  assert model_view.blessing_metric(str(tmp_path)) == (None, None)  # nothing evaluated
  # A regression's blessing (an upper bound on an error), its metrics not written: named only.
  config = {'metricsSpecs': [{'metrics': [
      {'className': 'MeanSquaredError', 'threshold': {'changeThreshold': {
          'direction': 'LOWER_IS_BETTER', 'absolute': 1e-10}}},
      {'className': 'MeanAbsoluteError', 'threshold': {'valueThreshold': {'upperBound': 2.5}}}]}]}
  (tmp_path / readers.EVAL_CONFIG_FILE).write_text(json.dumps({'evalConfig': config}))
  assert model_view.blessing_metric(str(tmp_path)) == ('mean_absolute_error', None)


def test_the_artifact_file_names_are_the_shared_ones():
  from core import names  # pylint: disable=import-outside-toplevel
  assert (readers.STATS_FILE, readers.SCHEMA_DIFF_FILE, readers.SCHEMA_FILE) == (
      names.STATS_FILE, names.SCHEMA_DIFF_FILE, names.SCHEMA_FILE)
