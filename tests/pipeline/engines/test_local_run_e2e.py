"""`make run` end to end on the embedded taxi data: console lines, last_run.json, cache reuse."""

from pathlib import Path

import pytest

import datadefs

pytestmark = pytest.mark.e2e

COMPONENTS = ['CsvExampleGen', 'ImportSchemaGen', 'latest_blessed_model_resolver',
              'latest_validated_statistics_resolver', 'StatisticsGen', 'ExampleValidator',
              'AnomaliesGate', 'Transform', 'LabelGate', 'Trainer', 'Evaluator', 'Pusher']
# Eval binary_accuracy of TFX's own taxi_pipeline_native_keras.py on the same data (1000 steps).
TFX_BASELINE_ACCURACY = 0.777


def test_first_run_succeeds_and_pushes(default_run):
  run, summary = default_run['first'], default_run['first_summary']
  assert run.returncode == 0, run.stdout + run.stderr
  assert summary['status'] == 'succeeded'
  assert summary['blessed'] is True
  pushed = Path(summary['pushed_model'])
  assert (pushed / 'saved_model.pb').is_file()
  assert pushed.is_relative_to(default_run['home'] / 'serving_model')
  assert [c['name'] for c in summary['components']] == COMPONENTS
  assert not any(c['cached'] for c in summary['components'])


def test_accuracy_at_least_tfx_native_keras_baseline(default_run):
  metrics = default_run['first_summary']['metrics']
  assert metrics['binary_accuracy'] >= TFX_BASELINE_ACCURACY, metrics
  assert metrics['example_count'] > 4000  # The whole eval split (a third of ~15k rows).


def test_console_shows_components_and_summary_not_tf_noise(default_run):
  out = default_run['first'].stdout
  for name in COMPONENTS:
    assert any(line.split()[:2] == [name, 'ran'] for line in out.splitlines()), (name, out)
  assert 'pushed model: ' + default_run['first_summary']['pushed_model'] in out
  assert 'binary_accuracy=' in out
  for noise in ('tensorflow', 'W0000', 'oneDNN', 'WARNING', 'FutureWarning'):
    assert noise not in out + default_run['first'].stderr, noise
  log_text = Path(default_run['first_summary']['log_file']).read_text()
  assert 'Component Trainer is finished.' in log_text


def test_what_the_run_says_about_its_rows_task_and_input_is_true(default_run):
  summary, out = default_run['first_summary'], default_run['first'].stdout
  # Exact counts over every row the ExampleGen read: none without a label (taxi counts a
  # missing tip as 0, in writing); company 34% empty, pickup_census_tract all but one row.
  quality = summary['data_quality']
  assert (quality['rows'], quality['rows_without_label']) == (15002, 0)
  assert quality['missing_share']['company'] == pytest.approx(5140 / 15002, abs=1e-6)
  assert quality['missing_share']['pickup_census_tract'] == pytest.approx(15001 / 15002)
  assert 'left out' not in out
  # Binary: the confusion matrix at 0.5 over the whole eval split, printed and recorded.
  confusion = summary['confusion_matrix']
  assert confusion['classes'] == ['0', '1'] and confusion['threshold'] == 0.5
  assert sum(map(sum, confusion['matrix'])) == summary['metrics']['example_count']
  assert 'confusion matrix (whole eval split, threshold 0.5; rows: actual' in out
  # This model beside the definition's [baseline], measured by `dataset baseline` on the same
  # 15002 rows split by the same rule: its eval part is the run's whole eval split, and its
  # naive score (the train part's majority class, 0) that class's share of the eval split.
  taxi = datadefs.load('taxi')
  accuracy = summary['metrics']['binary_accuracy']
  assert summary['baseline'] == {'metric': 'binary_accuracy', 'model': accuracy,
                                 'naive': taxi.baseline.naive, 'gbm': taxi.baseline.gbm}
  assert taxi.baseline.eval_rows == summary['metrics']['example_count']
  assert taxi.baseline.naive == pytest.approx(
      sum(confusion['matrix'][0]) / summary['metrics']['example_count'], abs=1e-6)
  assert (f'binary_accuracy: this model {accuracy:.4f}, naive baseline '
          f'{taxi.baseline.naive:.4f}, default gradient-boosted model') in out
  assert 'not_blessed_reason' not in summary
  report = default_run['first_report']
  assert 'Beside the baselines' in report
  assert 'ROC curve (AUC ' in report and 'confusion matrix (threshold 0.5)' in report
  assert '<span class="fail">mostly empty</span>' in report  # pickup_census_tract
  assert 'beyond (hatched)' in report  # fare, trip_miles, trip_seconds: long tails
  # The in-memory input keeps ahead of the model: never called input-bound.
  verdict = report[report.index('<h3>Input pipeline</h3>'):][:400]
  assert '<b>input-bound' not in verdict, verdict


def test_second_run_with_nothing_new_does_nothing_and_says_so(default_run):
  run, summary = default_run['second'], default_run['second_summary']
  first = default_run['first_summary']
  assert run.returncode == 0, run.stdout + run.stderr
  assert 'nothing new: no new data, and the settings and code are those of the last' in (
      run.stdout)
  assert summary['status'] == 'succeeded' and summary['nothing_new'] is True
  assert summary['components'] == [] and summary['pushed_model'] is None
  assert summary['latest_pushed_model'] == first['pushed_model']
  assert summary['metrics'] == first['metrics']
  assert summary['baseline'] == first['baseline']
  # Nothing was pushed: the first run's version folder is the only one.
  versions = list((default_run['home'] / 'serving_model' / 'chicago-taxi').iterdir())
  assert versions == [Path(first['pushed_model'])]


def test_forced_run_reuses_cache_and_skips_the_unchanged_model(default_run):
  run, summary = default_run['forced'], default_run['forced_summary']
  assert run.returncode == 0, run.stdout + run.stderr
  cached = {c['name'] for c in summary['components'] if c['cached']}
  assert {'CsvExampleGen', 'StatisticsGen', 'Transform', 'Trainer'} <= cached
  assert 'reused cached results for' in run.stdout
  assert any(line.split()[:2] == ['Trainer', 'cached'] for line in run.stdout.splitlines())
  # The candidate is the blessed baseline itself: not evaluated again, not pushed again.
  assert summary['blessed'] is True and summary['model_unchanged'] is True
  assert summary['pushed_model'] is None and summary['metrics'] == {}
  assert 'model unchanged: every step up to the Trainer was reused' in run.stdout
  assert len(list((default_run['home'] / 'serving_model' / 'chicago-taxi').iterdir())) == 1
