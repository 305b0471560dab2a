"""Run, training and evaluation sections (runs/report/model_view.py)."""

import json

import pytest

from runs.report import model_view
from runs.report import readers
from tests.runs.report import fixtures


def test_timeline_takes_the_summarys_timing_and_marks_the_failed_component():
  summary = fixtures.summary(status='failed', error='Pusher failed: OSError: disk full')
  steps = model_view.timeline(summary, None)
  assert [(s.name, s.status) for s in steps][-2:] == [('Evaluator', 'ran'), ('Pusher', 'failed')]
  assert [s.status for s in steps if s.name == 'Transform'] == ['cached']
  assert model_view.timeline({'components': []}, None) == []


def test_training_per_epoch_with_the_input_monitors_verdict(uris):
  parameters = {'custom_config': json.dumps({'train_config': {'input_bound_threshold': 0.3}}),
                'train_args': '{"num_steps": 200}'}
  view = model_view.training(readers.scalars(str(uris['model_run'])), parameters)
  assert view.axis == 'epoch' and view.train_steps == 200
  assert [(s.label, [(e, round(v, 3)) for e, v in s.points]) for s in view.metrics['loss']] == [
      ('train', [(1, 0.6), (2, 0.4)]), ('eval', [(1, 0.65), (2, 0.5)])]
  assert view.threshold == 0.3 and view.verdict.startswith(
      'not input-bound: the input alone delivers a batch in under half a step')
  assert '(a step takes 4 ms, the model\'s compute 3.8 ms, the input alone 0.4 ms per batch ' \
         '(10% of a step))' in view.verdict and view.input_bound_epochs == []
  assert round(view.step_ms, 3) == 4.0
  assert view.eval_scope.startswith('eval: at most the first 50,000 examples of the eval split')


@pytest.mark.parametrize('train_config, eval_args, scope', [
    ({'max_eval_examples': 1000}, None, 'eval: at most the first 1,000 examples'),
    ({'max_eval_examples': 0}, None, 'eval: the whole eval split'),
    ({'eval_batch_size': 64}, '{"num_steps": 3}', 'eval: 3 batch(es) of 64 examples'),
])
def test_training_says_which_eval_examples_the_curve_is_over(uris, train_config, eval_args,
                                                             scope):
  parameters = {'custom_config': json.dumps({'train_config': train_config}),
                **({'eval_args': eval_args} if eval_args else {})}
  view = model_view.training(readers.scalars(str(uris['model_run'])), parameters)
  assert view.eval_scope.startswith(scope)


def test_training_flags_an_input_bound_run_against_the_default_threshold(tmp_path):
  events = fixtures.write_events(tmp_path / 'model_run', wait_share=0.45, input_share=0.9)
  view = model_view.training(readers.scalars(str(events)), {})
  assert view.threshold == 0.2  # trainer/config.py's default
  assert view.verdict.startswith('input-bound: about 45% of step time waiting for data')
  assert view.input_bound_epochs == [1, 2]


@pytest.mark.parametrize('input_share, reason', [
    (0.6, 'the input alone takes between half a step and most of one'),
    (None, 'the input alone was not measured'),  # a run from before it was
])
def test_training_says_when_it_cannot_tell(tmp_path, input_share, reason):
  events = fixtures.write_events(tmp_path / 'model_run', wait_share=0.45, input_share=input_share)
  view = model_view.training(readers.scalars(str(events)), {})
  assert view.verdict.startswith(f'cannot tell whether the input is the bottleneck: {reason}')
  assert view.input_bound_epochs == []


def test_training_per_step_when_keras_logged_batches():
  scalar = lambda step, value: readers.Scalar(step, value, 0.0)  # noqa: E731
  view = model_view.training({
      'train': {'batch_loss': [scalar(10, 0.7), scalar(20, 0.5)]},
      'validation': {'evaluation_loss_vs_iterations': [scalar(20, 0.6)]}}, {})
  assert view.axis == 'step'
  assert [(s.label, s.points) for s in view.metrics['loss']] == [
      ('train', [(10, 0.7), (20, 0.5)]), ('eval', [(20, 0.6)])]
  assert view.verdict.startswith('not measured')
  assert model_view.training({}, {}) is None


def test_evaluation_checks_thresholds_against_candidate_and_baseline(uris):
  view = model_view.evaluation(
      fixtures.summary(), readers.eval_metrics(str(uris['evaluation'])),
      readers.eval_config(str(uris['evaluation'])), True, '/serving/1')
  rows = {r.name: r for r in view.rows}
  accuracy = rows['binary_accuracy']
  assert (accuracy.value, accuracy.baseline, round(accuracy.diff, 4)) == (0.8, 0.75, 0.05)
  assert accuracy.threshold == '>= 0.6; no worse than the baseline' and accuracy.passed
  assert rows['auc'].threshold == '' and rows['auc'].passed is None
  assert view.slices == {'trip_start_hour=8': {'binary_accuracy': 0.8, 'auc': 0.9}}
  assert view.configured_slices == ['Overall', 'trip_start_hour']
  assert view.notes == []


def test_evaluation_fails_a_metric_below_its_bound_or_worse_than_the_baseline():
  config = {'metricsSpecs': [{'metrics': [{'className': 'BinaryAccuracy', 'threshold': {
      'valueThreshold': {'lowerBound': 0.6},
      'changeThreshold': {'direction': 'HIGHER_IS_BETTER', 'absolute': -1e-10}}}]}]}
  metric = lambda model, diff, value: readers.Metric(  # noqa: E731
      'Overall', model, 'binary_accuracy', diff, value)
  worse = model_view.evaluation({}, [metric('candidate', False, 0.7), metric('baseline', False,
                                                                             0.72),
                                     metric('candidate', True, -0.02)], config, False, None)
  assert worse.rows[0].passed is False
  low = model_view.evaluation({}, [metric('', False, 0.5)], config, False, None)
  assert low.rows[0].passed is False
  assert low.rows[0].threshold.endswith('(no baseline yet: not applied)')


def test_evaluation_falls_back_to_the_summarys_metrics_and_notes_unchanged_models():
  view = model_view.evaluation(fixtures.summary(model_unchanged=True), [], {}, True, None)
  assert {r.name: (r.value, r.diff) for r in view.rows} == {
      'binary_accuracy': (0.8, 0.05), 'auc': (0.9, None)}
  assert view.notes[0].startswith('model unchanged: not re-evaluated')
  nothing = model_view.evaluation(fixtures.summary(nothing_new=True), [], {}, True, None)
  assert nothing.notes[0].startswith('nothing new')


def test_metric_names_follow_tfmas_defaults():
  assert model_view.metric_name({'className': 'BinaryAccuracy'}) == 'binary_accuracy'
  assert model_view.metric_name({'className': 'AUC'}) == 'auc'
  assert model_view.metric_name({'className': 'AUC', 'config': '{"name": "auc_pr"}'}) == 'auc_pr'


def test_a_threshold_without_a_value_is_not_evaluated_rather_than_failed():
  config = {'metricsSpecs': [{'metrics': [{'className': 'BinaryAccuracy', 'threshold': {
      'valueThreshold': {'lowerBound': 0.6}}}]}]}
  view = model_view.evaluation({'model_unchanged': True}, [], config, True, None)
  assert [(r.name, r.value, r.threshold, r.passed) for r in view.rows] == [
      ('binary_accuracy', None, '>= 0.6', None)]


def test_nothing_new_has_no_timeline_of_its_own():
  assert model_view.timeline(fixtures.summary(components=[], nothing_new=True), None) == []


def test_thresholds_are_by_tfmas_metric_name():
  config = {'metricsSpecs': [{'metrics': [
      {'className': 'AUC'},
      {'className': 'BinaryAccuracy', 'threshold': {'valueThreshold': {'lowerBound': 0.6}}},
      {'className': 'AUC', 'config': '{"name": "auc_pr"}',
       'threshold': {'changeThreshold': {'direction': 'HIGHER_IS_BETTER'}}}]}]}
  assert model_view.thresholds(config) == {
      'binary_accuracy': {'valueThreshold': {'lowerBound': 0.6}},
      'auc_pr': {'changeThreshold': {'direction': 'HIGHER_IS_BETTER'}}}
  assert model_view.thresholds({}) == {}


def test_the_threshold_of_an_image_dataset_is_its_per_slice_threshold_on_the_whole_split():
  # pylint: disable=import-outside-toplevel; the pipeline's own eval config, as TFX writes it
  from google.protobuf import json_format
  import datadefs
  from pipeline import graph
  dataset = datadefs.load('digits')
  config = json_format.MessageToDict(graph.eval_config(dataset))
  found = model_view.thresholds(config)
  assert list(found) == ['sparse_categorical_accuracy']
  assert found['sparse_categorical_accuracy']['valueThreshold'] == {
      'lowerBound': dataset.blessing_bound}
