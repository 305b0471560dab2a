"""trainer/input_monitor.py: the verdict is right on a deliberately input-bound case (a slow
decode step) and on the default pipeline (the taxi model fed by the in-memory input at
millisecond steps, which the old monitor called 20-70% input-bound); where it cannot tell, it
says so.

The monitor compares wall-clock times, so the tests that judge a verdict are marked `timing`:
`make test` runs them alone, after the parallel run.
"""

import dataclasses
import glob
import logging
import time

import pytest
import tensorflow as tf

from trainer import input_monitor
from trainer import input_pipeline
from trainer import model as model_lib
from trainer.config import TrainConfig
from trainer.input_verdict import CANNOT_TELL, INPUT_BOUND, NOT_INPUT_BOUND, InputReport
from tests import taxi
from tests.trainer import synthetic

_STEPS = 40


@pytest.fixture(scope='module')
def taxi_input(tmp_path_factory):
  """The Trainer's own training input (in memory, as for the default run) over 4,000
  synthetic transformed taxi examples, and its one-batch calibration input."""
  folder = tmp_path_factory.mktemp('shards')
  synthetic.write_shards(str(folder), num_files=4, rows_per_file=1000)
  config = input_pipeline.input_config(TrainConfig(), taxi.TAXI, [str(folder / '*')], 128,
                                       is_training=True)
  spec = synthetic.feature_spec()
  one_batch = dataclasses.replace(config, cache=False, in_memory=False)
  return (input_pipeline.make_dataset(config, spec),
          input_pipeline.make_dataset(one_batch, spec).take(1).cache().repeat())


def _slow_decode(dataset, seconds_per_batch):
  """A decode step held up in Python: one batch at a time, the model cannot be kept busy."""
  def decode(label):
    time.sleep(seconds_per_batch)
    return label
  return dataset.map(
      lambda features, label: (features, tf.ensure_shape(tf.numpy_function(
          decode, [label], label.dtype, stateful=True), label.shape)),
      num_parallel_calls=1).prefetch(1)


def _fit(train, calibration, log_dir, epochs=2):
  model = model_lib.build(taxi.TAXI)
  monitor = input_monitor.InputMonitor(calibration, str(log_dir), input_data=train)
  model.fit(train, epochs=epochs, steps_per_epoch=_STEPS, callbacks=[monitor], verbose=0)
  return monitor


def _warnings(caplog):
  return [r.getMessage() for r in caplog.records if r.getMessage().startswith('input-bound')]


@pytest.mark.timing
def test_slow_decode_is_input_bound(taxi_input, tmp_path, caplog):
  train, calibration = taxi_input
  with caplog.at_level(logging.INFO):
    monitor = _fit(_slow_decode(train, 0.02), calibration, tmp_path)
  for report in monitor.reports:
    assert report.steps == _STEPS - (2 if report.epoch == 0 else 0)  # warm-up left out
    assert report.verdict == INPUT_BOUND, report.explain()
    assert report.input_seconds >= 0.02 and report.wait_share > 0.5, report
  warning = _warnings(caplog)[-1]
  assert f'input-bound: {monitor.reports[-1].wait_share:.0%} of step time waiting' in warning
  assert 'cycle_length' in warning and 'cache' in warning and 'NUM_SHARDS' in warning


@pytest.mark.timing
def test_default_in_memory_input_is_not_input_bound(taxi_input, tmp_path, caplog):
  train, calibration = taxi_input
  with caplog.at_level(logging.INFO):
    monitor = _fit(train, calibration, tmp_path, epochs=3)
  assert [report.epoch for report in monitor.reports] == [0, 1, 2]
  # Millisecond steps: the old monitor's step-minus-compute swung between 0% and 71% here.
  assert all(report.step_seconds < 0.05 for report in monitor.reports), monitor.reports
  assert all(report.verdict == NOT_INPUT_BOUND for report in monitor.reports), [
      report.explain() for report in monitor.reports]
  assert not _warnings(caplog)


def test_figures_and_verdict_are_written_to_tensorboard(taxi_input, tmp_path):
  train, calibration = taxi_input
  monitor = _fit(_slow_decode(train, 0.005), calibration, tmp_path, epochs=1)
  values = {}
  for path in glob.glob(str(tmp_path / 'events.out.tfevents.*')):
    for event in tf.compat.v1.train.summary_iterator(path):
      for value in event.summary.value:
        values[(value.tag, event.step)] = float(tf.make_ndarray(value.tensor))
  [report] = monitor.reports
  assert values[('input/wait_share', 0)] == pytest.approx(report.wait_share)
  assert values[('input/step_seconds', 0)] == pytest.approx(report.step_seconds)
  assert values[('input/input_seconds', 0)] == pytest.approx(report.input_seconds)
  assert values[('input/verdict', 0)] == input_monitor.VERDICT_CODES[report.verdict]
  assert ('input/compute_seconds', 0) in values and ('input/wait_seconds', 0) in values


@pytest.mark.parametrize('input_ms, compute_ms, verdict, says', [
    (0.4, 3.0, NOT_INPUT_BOUND, 'the input alone delivers a batch in under half a step'),
    (9.0, 2.0, INPUT_BOUND, 'input-bound: about 80% of step time waiting for data'),
    # Too close to tell at a 10 ms step: the input alone takes 60% of it.
    (6.0, 5.0, CANNOT_TELL, 'between half a step and most of one'),
    # The input alone paces the step, yet the step is within the threshold of the compute.
    (9.0, 9.5, CANNOT_TELL, 'the step is within 20% of the compute'),
    (None, 2.0, CANNOT_TELL, 'the input alone was not measured'),
])
def test_verdict_from_the_figures(input_ms, compute_ms, verdict, says):
  report = InputReport(0, 10, 0.010, compute_ms / 1e3,
                       None if input_ms is None else input_ms / 1e3)
  assert report.verdict == verdict
  assert says in report.explain()
  # Noise can make the step look faster than the compute: the wait is zero, not negative.
  assert InputReport(0, 10, 0.05, 0.06).wait_share == 0.0


@pytest.mark.parametrize('kwargs, message', [
    (dict(threshold=0.0), 'threshold must be in \\(0, 1\\], got 0.0'),
    (dict(calibration_steps=0), 'calibration_steps must be >= 1, got 0'),
    (dict(warmup_steps=-1), 'warmup_steps must be >= 0, got -1'),
    (dict(input_batches=0), 'input_batches must be >= 1, got 0'),
])
def test_bad_settings_are_rejected(kwargs, message):
  with pytest.raises(ValueError, match=message):
    input_monitor.InputMonitor(None, '/tmp/unused', **kwargs)
