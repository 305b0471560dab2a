"""write_report, rebuild and list_runs (runs/report/__init__.py) over both engines' stores."""

import json
import re
import time

import pytest

import datadefs
from runs import report
from tests.runs.report import fixtures
from tests.runs.report import stores


def _sections(text):
  return re.findall(r'<section id="(\w+)">', text)


def test_local_run_report_shows_every_section_from_mlmd(home, uris):
  stores.mlmd_home(home, uris)
  started = time.monotonic()
  path = stores.write_report(fixtures.summary(), home)
  assert time.monotonic() - started < 30  # seconds on an idle machine; generous when shared
  text = path.read_text()
  assert path == home.report == home.root / 'report.html'
  assert _sections(text) == ['run', 'data', 'validation', 'training', 'evaluation']
  assert text.count('<svg') >= 6
  for expected in ('run-2', 'Taxi Affiliation Services', 'drift L-infinity &lt;= 0.2',
                   '0.3000', 'not input-bound: the input alone delivers', '(threshold 30%)', '&gt;= 0.6; no worse '
                   'than the baseline', 'trip_start_hour=8', '/serving/chicago-taxi/1795988073',
                   'Eval: at most the first 50,000 examples of the eval split'):
    assert expected in text, expected
  assert 'not shown:' not in text


def test_report_shows_rows_left_out_missing_shares_and_the_tasks_figures(home, uris):
  stores.mlmd_home(home, uris)
  text = stores.write_report(fixtures.summary(), home).read_text()
  data = text[text.index('<section id="data">'):text.index('<section id="validation">')]
  # The ExampleGen's exact counts: rows left out without a label, missing shares per split.
  assert ("The ExampleGen read 152 rows (train 101, eval 51). <b>2 had no label</b> (no "
          "&#x27;tips&#x27;) and were left out of training, tuning and evaluation: train 1, "
          "eval 1." in data)
  rows = re.findall(r'<tr><td>(\w+)</td><td class="num">([\d.]+%)</td><td class="num">'
                    r'([\d.]+%)</td><td class="num">([\d.]+%)</td><td>(.*?)</td></tr>', data)
  assert rows == [
      ('pickup_census_tract', '100.0%', '100.0%', '100.0%', '<span class="fail">all empty</span>'),
      ('company', '39.6%', '39.2%', '39.5%', ''), ('tips', '1.0%', '2.0%', '1.3%', '')]
  assert '1 other column(s) have no missing cell' in data
  evaluation = text[text.index('<section id="evaluation">'):]
  # Binary: the confusion matrix at 0.5 and the ROC curve, over the whole eval split.
  assert 'id="task-figures"' in evaluation and 'confusion matrix (threshold 0.5)' in evaluation
  assert 'ROC curve (AUC 0.9000)' in evaluation
  assert 'Computed by the Evaluator over the whole eval split.' in evaluation


def test_vertex_local_run_report_names_spec_profile_and_data(home, uris):
  stores.vertex_home(home, uris)
  text = stores.write_report(stores.vertex_summary(uris), home).read_text()
  for expected in (fixtures.RUN_ID, 'pipeline-vertex-cpu.json', '<b>profile</b></td><td>'
                   'vertex-cpu', '/data/taxi', 'engine vertex-local', '0.3000'):
    assert expected in text, expected


def test_a_run_that_failed_before_any_component_reports_the_failure_only(home, uris):
  stores.mlmd_home(home, uris)  # an earlier run's artifacts must not be shown as this run's
  summary = fixtures.summary(status='failed', components=[], blessed=None, pushed_model=None,
                             error='the input data folder /data does not exist')
  text = stores.write_report(summary, home).read_text()
  assert 'FAILED</b>: the input data folder /data does not exist' in text
  assert 'No component ran.' in text and 'run-2' not in text
  assert _sections(text) == ['run', 'data', 'validation', 'training', 'evaluation']


def test_a_run_failed_at_the_gate_shows_what_ran_and_the_anomalies(home, uris):
  stores.mlmd_home(home, uris, fail_at='AnomaliesGate')
  components = fixtures.summary()['components'][:5]
  summary = fixtures.summary(status='failed', components=components, error=(
      'AnomaliesGate failed: ' + stores.GATE_ERROR.split('\n', 2)[2]), blessed=None)
  text = stores.write_report(summary, home).read_text()
  assert text.index('id="failure"') < text.index('<section id="run">')
  assert 'COMPARATOR_L_INFTY_HIGH' in text and 'Bogus &lt;Cab&gt;' in text
  assert 'Not evaluated' in text and 'No training logs' in text


def test_nothing_new_shows_the_last_run_that_ran_and_says_so(home, uris):
  stores.mlmd_home(home, uris)
  text = stores.write_report(fixtures.summary(components=[], nothing_new=True), home).read_text()
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
  text = stores.write_report(summary, home).read_text()
  assert 'model unchanged: not re-evaluated' in text
  assert 'the figures below are from run run-1, which evaluated this same model' in text
  assert '<td class="num">0.8000</td><td class="num">0.7500</td>' in text


def test_an_unreadable_artifact_costs_its_section_only(home, uris, tmp_path):
  broken = dict(uris, model_run=tmp_path / 'model_run')
  (broken['model_run'] / 'train').mkdir(parents=True)
  (broken['model_run'] / 'train' / 'events.out.tfevents.1.v2').write_bytes(b'\x05' * 20)
  stores.mlmd_home(home, broken)
  text = stores.write_report(fixtures.summary(), home).read_text()
  assert 'not shown: training: ReportDataError: ' in text
  assert 'Taxi Affiliation Services' in text and 'trip_start_hour=8' in text


def test_rebuild_writes_the_last_run_or_an_earlier_one_from_the_store(home, uris):
  stores.vertex_home(home, uris)
  home.last_run.write_text(json.dumps(stores.vertex_summary(uris)))
  sources = stores.sources(home)
  assert report.rebuild(home, sources) == home.report
  earlier = report.rebuild(home, sources, fixtures.EARLIER_RUN_ID)
  assert earlier == home.reports / f'{fixtures.EARLIER_RUN_ID}.html'
  assert earlier == home.root / 'reports' / f'{fixtures.EARLIER_RUN_ID}.html'
  assert fixtures.EARLIER_RUN_ID in earlier.read_text()
  with pytest.raises(LookupError, match="no run 'nope'"):
    report.rebuild(home, sources, 'nope')


def test_list_runs_gives_status_blessing_metric_and_pushed_model(home, uris):
  stores.vertex_home(home, uris)
  runs = report.list_runs(home, stores.sources(home))
  assert [(engine, summary['run_id']) for engine, _, summary in runs] == [
      ('vertex-local', fixtures.EARLIER_RUN_ID), ('vertex-local', fixtures.RUN_ID)]
  latest = runs[-1][2]
  assert latest['status'] == 'succeeded' and latest['blessed'] is True
  # The metric the blessing is on: the one with a value threshold in the eval config.
  assert (latest['key_metric_name'], latest['key_metric']) == ('binary_accuracy', 0.8)
  assert latest['pushed_model'] == '/serving/chicago-taxi/1795988073'


def _without_imported_schema(uris, tmp_path):
  """The fixtures' artifacts, the ImportSchemaGen output folder holding no schema.pbtxt (a
  store that outlived its pipeline root, say)."""
  missing = dict(uris, schema=tmp_path / 'ImportSchemaGen' / 'schema' / '2')
  missing['schema'].mkdir(parents=True)
  return missing


def test_without_its_imported_schema_a_run_is_shown_against_its_own_datasets_schema(
    home, uris, tmp_path):
  """A penguins run whose imported schema is gone: the summary's `schema` (the run's dataset's
  curated schema) gives the expectations and the drift comparators, never the taxi schema."""
  from runs.report import collect  # pylint: disable=import-outside-toplevel
  from runs.report import readers  # pylint: disable=import-outside-toplevel
  penguins = datadefs.load('penguins')
  stores.mlmd_home(home, _without_imported_schema(uris, tmp_path), pipeline_name='penguins')
  summary = fixtures.summary(pipeline='penguins', dataset='penguins',
                             schema=penguins.schema_path)
  source = stores.sources(home)['local']
  record, note = source.record_of(summary)
  page = collect.build_page(summary, record, note, home.root, source)

  expected = readers.load_schema(penguins.schema_path)
  views = {v.name: v for v in page.features}
  assert set(views) == {'fare', 'company', 'pickup_census_tract'} | {
      f.name for f in expected.feature}
  # The taxi columns of the statistics are not in the penguins schema (the taxi schema would
  # give company its 45-value domain and its drift threshold).
  for name in ('fare', 'company', 'pickup_census_tract'):
    assert views[name].expectation == ['not in the curated schema'], name
  assert views['island'].kind == 'missing'
  assert "domain 'island' (3 values)" in views['island'].expectation
  drifting = [f.name for f in expected.feature if f.HasField('drift_comparator')]
  assert drifting and [row.feature for row in page.drift] == drifting
  assert page.problems == [f"the run's imported schema was not found; using its dataset's "
                           f'curated schema {penguins.schema_path}']

  text = stores.write_report(summary, home).read_text()
  assert penguins.schema_path in text and str(fixtures.TAXI_SCHEMA) not in text
  assert "domain &#x27;company&#x27;" not in text and 'payment_type' not in text


def test_without_an_imported_schema_or_a_dataset_schema_statistics_show_without_expectations(
    home, uris, tmp_path):
  from runs.report import collect  # pylint: disable=import-outside-toplevel
  stores.mlmd_home(home, _without_imported_schema(uris, tmp_path))
  summary = fixtures.summary()
  del summary['schema']  # e.g. the summary of a run from before summaries named the schema
  source = stores.sources(home)['local']
  page = collect.build_page(summary, source.run(), None, home.root, source)
  assert {v.name: v.expectation for v in page.features} == {
      'fare': ['no schema'], 'company': ['no schema'], 'pickup_census_tract': ['no schema']}
  assert page.drift == []
  assert page.problems == ["schema: the run's imported schema was not found, and its summary "
                           'names no dataset schema: statistics are shown without expectations']
  text = stores.write_report(summary, home).read_text()
  assert 'Taxi Affiliation Services' in text and str(fixtures.TAXI_SCHEMA) not in text
