"""write_report, rebuild and list_runs (runs/report/__init__.py) over both engines' stores."""

import json
import re
import time

import pytest

from pipeline.local import report
from tests.runs.report import fixtures
from tests.runs.report import stores


def _sections(text):
  return re.findall(r'<section id="(\w+)">', text)


def test_local_run_report_shows_every_section_from_mlmd(home, uris):
  stores.mlmd_home(home, uris)
  started = time.monotonic()
  path = report.write_report(fixtures.summary(), home)
  assert time.monotonic() - started < 30  # seconds on an idle machine; generous when shared
  text = path.read_text()
  assert path == home / 'report.html'
  assert _sections(text) == ['run', 'data', 'validation', 'training', 'evaluation']
  assert text.count('<svg') >= 6
  for expected in ('run-2', 'Taxi Affiliation Services', 'drift L-infinity &lt;= 0.2',
                   '0.3000', 'not input-bound: 5%', '(threshold 30%)', '&gt;= 0.6; no worse '
                   'than the baseline', 'trip_start_hour=8', '/serving/chicago-taxi/1795988073',
                   'Eval: at most the first 50,000 examples of the eval split'):
    assert expected in text, expected
  assert 'not shown:' not in text


def test_vertex_local_run_report_names_spec_profile_and_data(home, uris):
  stores.vertex_home(home, uris)
  text = report.write_report(stores.vertex_summary(uris), home).read_text()
  for expected in (fixtures.RUN_ID, 'pipeline-vertex-cpu.json', '<b>profile</b></td><td>'
                   'vertex-cpu', '/data/taxi', 'engine vertex-local', '0.3000'):
    assert expected in text, expected


def test_a_run_that_failed_before_any_component_reports_the_failure_only(home, uris):
  stores.mlmd_home(home, uris)  # an earlier run's artifacts must not be shown as this run's
  summary = fixtures.summary(status='failed', components=[], blessed=None, pushed_model=None,
                             error='the input data folder /data does not exist')
  text = report.write_report(summary, home).read_text()
  assert 'FAILED</b>: the input data folder /data does not exist' in text
  assert 'No component ran.' in text and 'run-2' not in text
  assert _sections(text) == ['run', 'data', 'validation', 'training', 'evaluation']


def test_a_run_failed_at_the_gate_shows_what_ran_and_the_anomalies(home, uris):
  stores.mlmd_home(home, uris, fail_at='AnomaliesGate')
  components = fixtures.summary()['components'][:5]
  summary = fixtures.summary(status='failed', components=components, error=(
      'AnomaliesGate failed: ' + stores.GATE_ERROR.split('\n', 2)[2]), blessed=None)
  text = report.write_report(summary, home).read_text()
  assert text.index('id="failure"') < text.index('<section id="run">')
  assert 'COMPARATOR_L_INFTY_HIGH' in text and 'Bogus &lt;Cab&gt;' in text
  assert 'Not evaluated' in text and 'No training logs' in text


def test_nothing_new_shows_the_last_run_that_ran_and_says_so(home, uris):
  stores.mlmd_home(home, uris)
  text = report.write_report(fixtures.summary(components=[], nothing_new=True), home).read_text()
  assert 'the figures below are from run run-2, the last run that did' in text
  assert 'No component ran.' in text and '<b>figures from run</b></td><td>run-2' in text
  assert 'nothing new: no new data' in text
  assert 'Taxi Affiliation Services' in text


def test_an_unchanged_model_shows_the_evaluation_of_the_run_that_evaluated_it(
    home, uris, tmp_path):
  stores.mlmd_home(home, uris, run_id='run-1')
  not_evaluated = dict(uris, evaluation=tmp_path / 'empty-evaluation')
  not_evaluated['evaluation'].mkdir()
  stores.mlmd_home(home, not_evaluated, run_id='run-2', blessing={'unchanged_model': 1})
  summary = fixtures.summary(model_unchanged=True, pushed_model=None, metrics={})
  text = report.write_report(summary, home).read_text()
  assert 'model unchanged: not re-evaluated' in text
  assert 'the figures below are from run run-1, which evaluated this same model' in text
  assert '<td class="num">0.8000</td><td class="num">0.7500</td>' in text


def test_an_unreadable_artifact_costs_its_section_only(home, uris, tmp_path):
  broken = dict(uris, model_run=tmp_path / 'model_run')
  (broken['model_run'] / 'train').mkdir(parents=True)
  (broken['model_run'] / 'train' / 'events.out.tfevents.1.v2').write_bytes(b'\x05' * 20)
  stores.mlmd_home(home, broken)
  text = report.write_report(fixtures.summary(), home).read_text()
  assert 'not shown: training: ReportDataError: ' in text
  assert 'Taxi Affiliation Services' in text and 'trip_start_hour=8' in text


def test_rebuild_writes_the_last_run_or_an_earlier_one_from_the_store(home, uris):
  stores.vertex_home(home, uris)
  (home / 'last_run.json').write_text(json.dumps(stores.vertex_summary(uris)))
  assert report.rebuild(home) == home / 'report.html'
  earlier = report.rebuild(home, fixtures.EARLIER_RUN_ID)
  assert earlier == home / 'reports' / f'{fixtures.EARLIER_RUN_ID}.html'
  assert fixtures.EARLIER_RUN_ID in earlier.read_text()
  with pytest.raises(LookupError, match="no run 'nope'"):
    report.rebuild(home, 'nope')


def test_list_runs_gives_status_blessing_metric_and_pushed_model(home, uris):
  stores.vertex_home(home, uris)
  runs = report.list_runs(home)
  assert [(engine, summary['run_id']) for engine, _, summary in runs] == [
      ('vertex-local', fixtures.EARLIER_RUN_ID), ('vertex-local', fixtures.RUN_ID)]
  latest = runs[-1][2]
  assert latest['status'] == 'succeeded' and latest['blessed'] is True
  assert latest['key_metric'] == 0.8
  assert latest['pushed_model'] == '/serving/chicago-taxi/1795988073'
