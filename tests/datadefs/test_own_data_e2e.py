"""Bringing your own CSV, end to end: `dataset init` on a CSV, then `python -m pipeline run`
with DATASET=<that folder> trains, blesses and pushes with no code written (Palmer penguins:
multiclass, string label, 'NA' cells); the bundled regression dataset (taxi fare) runs too."""

import csv
import json
import shutil
from pathlib import Path

import pytest

import datadefs
from tests.conftest import REPO_ROOT, read_last_run, run_cli, write_csv

pytestmark = pytest.mark.e2e

# Measured here by `python -m bench.tfx_penguin` (TFX's own penguin example on the same rows).
_TFX_PENGUIN = json.loads((REPO_ROOT / 'bench' / 'results' / 'tfx_penguin.json').read_text())


def _rows(path):
  with open(path, newline='') as f:
    header, *rows = list(csv.reader(f))
  return header, rows


@pytest.fixture(scope='module')
def penguins(tmp_path_factory):
  """penguins.csv in a folder of its own, a definition made by `dataset init`, and a run."""
  work = tmp_path_factory.mktemp('own-data')
  data = work / 'data'
  data.mkdir()
  shutil.copy(Path(datadefs.data_root(datadefs.load('penguins'))) / 'penguins.csv', data)
  init = run_cli(['dataset', 'init', '--csv', str(data / 'penguins.csv'), '--label', 'species',
                  '--out', str(work / 'penguins')], work / 'home')
  run = run_cli(['run'], work / 'home', data_root=data,
                extra_env={'DATASET': str(work / 'penguins')})
  return {'init': init, 'run': run, 'summary': read_last_run(work / 'home'), 'work': work}


def test_init_says_what_it_decided_and_why(penguins):
  init = penguins['init']
  assert init.returncode == 0, init.stdout + init.stderr
  out = init.stdout
  assert "task: multiclass (label 'species', classes ['Adelie', 'Chinstrap', 'Gentoo'])" in out
  assert "always predicting the majority class 'Adelie' is 44.2% accurate" in out
  assert "missing values: empty cells and ['NA']" in out
  assert 'island             string  vocabulary  3 distinct texts' in out
  assert 'blessing threshold, set from the baseline: ' in out


def test_a_definition_from_init_trains_blesses_and_pushes(penguins):
  run, summary = penguins['run'], penguins['summary']
  assert run.returncode == 0, run.stdout + run.stderr
  assert summary['status'] == 'succeeded' and summary['blessed'] is True, summary
  assert Path(summary['pushed_model'], 'saved_model.pb').is_file()
  # About 230 training rows: init proposed trees (datadefs/tabular/model_choice.py), and trees
  # grew, stopping early.
  assert 'model: gradient_boosted_trees' in penguins['init'].stdout
  log = Path(summary['log_file']).read_text()
  assert 'Grew ' in log and 'trees (early stopping' in log


def test_penguins_accuracy_at_least_tfx_penguin_example(penguins):
  accuracy = penguins['summary']['metrics']['sparse_categorical_accuracy']
  assert accuracy >= _TFX_PENGUIN['eval_accuracy'], (accuracy, _TFX_PENGUIN)


def test_multiclass_gets_a_confusion_matrix_by_class(penguins):
  summary = penguins['summary']
  confusion = summary['confusion_matrix']
  assert confusion['classes'] == ['Adelie', 'Chinstrap', 'Gentoo']
  assert confusion['threshold'] is None  # the top class
  assert sum(map(sum, confusion['matrix'])) == summary['metrics']['example_count']
  assert 'confusion matrix (whole eval split, the top class' in penguins['run'].stdout
  assert 'confusion matrix (the top class)' in Path(summary['report']).read_text()


def test_serving_signature_returns_a_probability_per_class(penguins):
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  model = tf.saved_model.load(penguins['summary']['pushed_model'])
  example = tf.train.Example()
  for name, value in (('island', b'Biscoe'), ('sex', b'female')):
    example.features.feature[name].bytes_list.value.append(value)
  for name, value in (('bill_length_mm', 46.5), ('bill_depth_mm', 14.8)):
    example.features.feature[name].float_list.value.append(value)
  for name, value in (('flipper_length_mm', 217), ('body_mass_g', 5200), ('year', 2008)):
    example.features.feature[name].int64_list.value.append(value)
  outputs = model.signatures['serving_default'](
      examples=tf.constant([example.SerializeToString()]))['outputs'].numpy()
  assert outputs.shape == (1, 3)
  assert outputs.sum() == pytest.approx(1.0, abs=1e-4)
  assert outputs.argmax() == 2  # A Gentoo's measurements.


def test_regression_dataset_with_the_tuner_trains_and_beats_the_mean_predictor(
    tmp_path, taxi_slice_root):
  # Every 40th fare emptied: those rows have no label, and no example is made of them.
  header, rows = _rows(taxi_slice_root / 'data.csv')
  fare = header.index('fare')
  for row in rows[::40]:
    row[fare] = ''
  write_csv(tmp_path / 'data' / 'data.csv', header, rows)
  run = run_cli(['run'], tmp_path / 'home', data_root=tmp_path / 'data', train_steps=400,
                extra_env={'DATASET': 'taxi_fare', 'TUNER_TRIALS': '2', 'TUNER_STEPS': '50'})
  assert run.returncode == 0, run.stdout + run.stderr
  summary = read_last_run(tmp_path / 'home')
  left_out = len(rows[::40])
  assert summary['data_quality']['rows_without_label'] == left_out
  assert summary['data_quality']['rows'] == len(rows)
  assert (f"left out {left_out} of {len(rows)} rows: no 'fare' (a row without a label is not "
          'an example') in run.stdout
  # The Evaluator scored the labelled rows only (it got examples, never a made-up 0 fare),
  # and the report says what a regression needs: RMSE, predicted vs actual, residuals.
  metrics = summary['metrics']
  assert metrics['root_mean_squared_error'] == pytest.approx(
      metrics['mean_squared_error'] ** 0.5)
  assert metrics['example_count'] < len(rows) - left_out
  assert 'root_mean_squared_error=' in run.stdout and 'mean_absolute_error=' in run.stdout
  text = Path(summary['report']).read_text()
  assert 'predicted vs actual (' in text and '>residuals<' in text
  count = int(metrics['example_count'])  # fewer than 2,000: the plots show every one
  assert f'all {count:,} examples of the eval split, predicted by the trained model' in text
  assert f'<b>{left_out} had no label</b>' in text
  # The Tuner ran two trials; the Trainer trained with the best one's values; the report
  # lists the trials.
  assert [c['name'] for c in summary['components']].index('Tuner') < [
      c['name'] for c in summary['components']].index('Trainer')
  [results] = (tmp_path / 'home' / 'pipeline_root' / 'Tuner' / 'tuner_results').glob(
      '*/tuner_results.json')
  trials = json.loads(results.read_text())
  assert len(trials) == 2
  best = trials[0]  # Best first: the lowest mean absolute error.
  assert best['score'] <= trials[1]['score']
  units = tuple(int(u) for u in best['hidden_units'].split(','))
  log = Path(summary['log_file']).read_text()
  assert f'hidden_units={units}' in log and f"learning_rate={best['learning_rate']}" in log
  report = Path(summary['report']).read_text()
  assert 'id="tuner"' in report and '(best: trained with)' in report
  assert summary['blessed'] is True, summary
  threshold = datadefs.load('taxi_fare').blessing_threshold  # 90% of the mean predictor's MAE
  assert summary['metrics']['mean_absolute_error'] < threshold, summary['metrics']
  assert 'pipeline taxi-fare (dataset taxi-fare, regression)' in run.stdout
