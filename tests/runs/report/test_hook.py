"""Every run ends in pipeline/local/run.py `finish` (both engines): it writes report.html,
records its path in last_run.json and prints `report: <path>` last; a report that cannot be
written never fails the run."""

import json

from pipeline.local import run as local_run
from pipeline.local import report
from runs import summary as run_report


def _failed_summary():
  return run_report.RunSummary(status='failed', log_file=None, details={'engine': 'local'},
                               error='the input data folder /data does not exist')


def test_finish_writes_the_report_and_prints_its_path_last(tmp_path):
  lines = []
  local_run.finish(_failed_summary(), tmp_path / 'last_run.json', lines.append)
  assert lines[-2] == f'summary: {tmp_path / "last_run.json"}'
  assert lines[-1] == f'report: {tmp_path / "report.html"}'
  saved = json.loads((tmp_path / 'last_run.json').read_text())
  assert saved['report'] == str(tmp_path / 'report.html')
  assert 'the input data folder /data does not exist' in (tmp_path / 'report.html').read_text()


def test_a_report_that_fails_is_named_and_the_run_goes_on(tmp_path, monkeypatch, capsys):
  def broken(summary_json, pipeline_home):
    raise RuntimeError('no room on the disk')
  monkeypatch.setattr(report, 'write_report', broken)
  lines = []
  summary = local_run.finish(_failed_summary(), tmp_path / 'last_run.json', lines.append)
  assert lines[-1] == 'report: not written (RuntimeError: no room on the disk)'
  assert summary.status == 'failed' and summary.error.startswith('the input data folder')
  assert json.loads((tmp_path / 'last_run.json').read_text())['report'] is None
  assert 'RuntimeError: no room on the disk' in capsys.readouterr().err  # the traceback
