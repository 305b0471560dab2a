"""trainer/input_monitor.py: a slow input makes the monitor warn, a fast one does not.

The monitor compares wall-clock step times, so the tests that judge a share are marked
`timing`: `make test` runs them alone, after the parallel run, where no other test worker
loads the host between an epoch and its calibration.
"""

import glob
import logging
import time

import numpy as np
import pytest
import tensorflow as tf

from trainer import input_monitor

_BATCH = 512
_STEPS = 30
# The fast input's check measures longer windows: over 30 steps and 20 calibration steps
# (about 0.2 s each) the share drifted by up to 25 points on an idle host; over 100 and 50
# it stayed under 11.
_LONG_STEPS = 100
_LONG_CALIBRATION_STEPS = 50


def _model():
  inputs = tf.keras.Input(shape=(64,))
  hidden = tf.keras.layers.Dense(512, activation='relu')(inputs)
  hidden = tf.keras.layers.Dense(512, activation='relu')(hidden)
  model = tf.keras.Model(inputs, tf.keras.layers.Dense(1, activation='sigmoid')(hidden))
  model.compile(optimizer=tf.keras.optimizers.Adam(0.001), loss='binary_crossentropy',
                metrics=['accuracy'])
  return model


def _in_memory_batches():
  rng = np.random.default_rng(0)
  batch = (rng.normal(size=(_BATCH, 64)).astype(np.float32),
           rng.integers(2, size=(_BATCH, 1)).astype(np.float32))
  return tf.data.Dataset.from_tensors(batch).cache().repeat()


def _slow_batches(seconds_per_batch):
  def sleep(x):
    time.sleep(seconds_per_batch)
    return x
  # One batch at a time, each held up in Python: the input cannot keep up with the model.
  return _in_memory_batches().map(
      lambda x, y: (tf.numpy_function(sleep, [x], tf.float32, stateful=True), y),
      num_parallel_calls=1).map(lambda x, y: (tf.ensure_shape(x, (_BATCH, 64)), y)).prefetch(1)


def _fit(dataset, log_dir, epochs=1, steps=_STEPS, calibration_steps=20):
  model = _model()
  monitor = input_monitor.InputMonitor(
      _in_memory_batches(), str(log_dir), calibration_steps=calibration_steps)
  model.fit(dataset, epochs=epochs, steps_per_epoch=steps, callbacks=[monitor], verbose=0)
  return monitor


def _warnings(caplog):
  return [r.getMessage() for r in caplog.records if r.getMessage().startswith('input-bound')]


@pytest.mark.timing
def test_slow_input_is_reported_input_bound(tmp_path, caplog):
  with caplog.at_level(logging.INFO):
    monitor = _fit(_slow_batches(0.1), tmp_path)
  [report] = monitor.reports
  assert report.steps == _STEPS - 2  # The warm-up steps are left out.
  assert report.wait_share > 0.5, report
  [warning] = _warnings(caplog)
  assert f'input-bound: {report.wait_share:.0%} of step time waiting for data; see ' in warning
  assert 'cycle_length' in warning and 'cache' in warning and 'NUM_SHARDS' in warning


@pytest.mark.timing
def test_fast_in_memory_input_is_not_input_bound(tmp_path, caplog):
  with caplog.at_level(logging.INFO):
    monitor = _fit(_in_memory_batches(), tmp_path, epochs=3, steps=_LONG_STEPS,
                   calibration_steps=_LONG_CALIBRATION_STEPS)
  assert [report.epoch for report in monitor.reports] == [0, 1, 2]
  assert all(report.wait_share < 0.2 for report in monitor.reports), monitor.reports
  assert not _warnings(caplog)


def test_measurements_are_written_to_tensorboard(tmp_path):
  monitor = _fit(_slow_batches(0.01), tmp_path, epochs=2)
  values = {}
  for path in glob.glob(str(tmp_path / 'events.out.tfevents.*')):
    for event in tf.compat.v1.train.summary_iterator(path):
      for value in event.summary.value:
        values[(value.tag, event.step)] = float(tf.make_ndarray(value.tensor))
  for report in monitor.reports:
    assert values[('input/wait_share', report.epoch)] == pytest.approx(report.wait_share)
    assert values[('input/step_seconds', report.epoch)] == pytest.approx(report.step_seconds)
    assert ('input/compute_seconds', report.epoch) in values
    assert ('input/wait_seconds', report.epoch) in values


def test_report_arithmetic():
  report = input_monitor.InputReport(epoch=0, steps=10, step_seconds=0.1, compute_seconds=0.063)
  assert report.wait_seconds == pytest.approx(0.037)
  assert report.wait_share == pytest.approx(0.37)
  # Noise can make the input look faster than free: the wait is then zero, not negative.
  assert input_monitor.InputReport(0, 10, 0.05, 0.06).wait_share == 0.0


@pytest.mark.parametrize('kwargs, message', [
    (dict(threshold=0.0), 'threshold must be in \\(0, 1\\], got 0.0'),
    (dict(calibration_steps=0), 'calibration_steps must be >= 1, got 0'),
    (dict(warmup_steps=-1), 'warmup_steps must be >= 0, got -1'),
])
def test_bad_settings_are_rejected(kwargs, message):
  with pytest.raises(ValueError, match=message):
    input_monitor.InputMonitor(None, '/tmp/unused', **kwargs)
