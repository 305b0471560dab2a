"""Every run ends in runs/summary.py `finish` (every engine): it writes report.html through the
engine's report writer, records its path in last_run.json and prints `report: <path>` last; a
report that cannot be written never fails the run."""

import json

from core.home import PipelineHome
from runs import history
from runs import summary as run_summary
from tests.runs.report import stores


def _failed_summary():
  return run_summary.RunSummary(status='failed', log_file=None, details={'engine': 'local'},
                               error='the input data folder /data does not exist')


def test_finish_writes_the_report_and_prints_its_path_last(tmp_path):
  home = PipelineHome(tmp_path)
  lines = []
  run_summary.finish(_failed_summary(), home, lines.append, stores.write_report)
  assert lines[-2] == f'summary: {tmp_path / "last_run.json"}'
  assert lines[-1] == f'report: {tmp_path / "report.html"}'
  saved = json.loads((tmp_path / 'last_run.json').read_text())
  assert saved['report'] == str(tmp_path / 'report.html')
  assert 'the input data folder /data does not exist' in (tmp_path / 'report.html').read_text()
  assert [run['report'] for run in history.runs(home)] == [str(tmp_path / 'report.html')]


def test_a_report_that_fails_is_named_and_the_run_goes_on(tmp_path, capsys):
  def broken(summary_json, pipeline_home):
    raise RuntimeError('no room on the disk')
  lines = []
  summary = run_summary.finish(_failed_summary(), PipelineHome(tmp_path), lines.append, broken)
  assert lines[-1] == 'report: not written (RuntimeError: no room on the disk)'
  assert summary.status == 'failed' and summary.error.startswith('the input data folder')
  assert json.loads((tmp_path / 'last_run.json').read_text())['report'] is None
  assert 'RuntimeError: no room on the disk' in capsys.readouterr().err  # the traceback


def test_an_engine_without_a_report_says_so(tmp_path):
  lines = []
  run_summary.finish(_failed_summary(), PipelineHome(tmp_path), lines.append)
  assert lines[-1] == 'report: not written (no report for this engine)'
  assert 'report' not in json.loads((tmp_path / 'last_run.json').read_text())
  assert not (tmp_path / 'report.html').exists()
