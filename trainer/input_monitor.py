"""InputMonitor: a Keras callback saying, per epoch, how much of the step time waits for data.

How it measures. Keras fetches each batch inside the compiled train function, so no callback
sees the fetch itself, and timing it inside tf.data (a map or py_function) would measure the
pipeline, not the wait. Instead the monitor compares two step times taken the same way, from
`on_train_batch_begin` to `on_train_batch_end`:
  * step: the real training steps of the epoch, fed by the real input pipeline;
  * compute: measured at the end of each epoch by training a clone of the model (same
    architecture, optimizer and loss, its own variables) for a few steps on one batch held in
    memory, so its input costs nothing.
With the pipeline prefetching, a step takes about max(input, compute), so the time spent
waiting for data is step - compute, and its share of the step is 1 - compute / step.

Assumptions, and what breaks them:
  * A step's compute time does not depend on the batch's values (fixed shapes, no data-dependent
    control flow): true for this model.
  * The calibration runs while the real pipeline is idle. While training, the pipeline's CPU
    work may slow the model's compute on a CPU-only host; that slowdown counts as waiting.
  * The clone has no compiled metrics (a few element-wise ops per step, counted as waiting)
    and uses steps_per_execution 1.
  * Step times are wall-clock means: on a busy, shared host the share is noisy (a few points
    from epoch to epoch); logs reach callbacks as numpy, so a step's time includes finishing it.
  * The first steps of training are left out (tracing and warm-up), as are epochs with no
    steps left after them (nothing is reported for those).
  * The clone is built with tf.keras.models.clone_model: functional or Sequential models only;
    it doubles the model's memory while training, and its tracing costs a few seconds once.
  * Under a distribution strategy the clone trains under the same strategy, so the compute
    time includes the gradient all-reduce; every worker measures its own input.
"""

import dataclasses
import time
from typing import List, Optional

from absl import logging
import tensorflow as tf

# Where the warning points: the README section on input performance, and what usually helps.
INPUT_BOUND_HINT = ('see README.md "Input pipeline performance": raise cycle_length, enable the '
                    'cache (cache_budget_bytes), check the shard count (NUM_SHARDS)')


@dataclasses.dataclass(frozen=True)
class InputReport:
  """One epoch's measurement; times are seconds per training step."""
  epoch: int
  steps: int
  step_seconds: float
  compute_seconds: float

  @property
  def wait_seconds(self) -> float:
    return max(0.0, self.step_seconds - self.compute_seconds)

  @property
  def wait_share(self) -> float:
    return self.wait_seconds / self.step_seconds if self.step_seconds > 0 else 0.0


class _StepTimer(tf.keras.callbacks.Callback):
  """Sums begin-to-end time of training batches after the first `skip_steps` steps."""

  def __init__(self, skip_steps: int):
    super().__init__()
    self.skip_steps = skip_steps
    self.steps_seen = 0
    self.seconds = 0.0
    self.steps = 0
    self._start = 0.0
    self._begin_batch = 0

  def on_train_batch_begin(self, batch, logs=None):
    self._begin_batch = batch
    self._start = time.perf_counter()

  def on_train_batch_end(self, batch, logs=None):
    # Logs reach here as numpy values (this callback does not take tf logs), so the step's
    # results are ready: the time is the step's, not just its dispatch.
    elapsed = time.perf_counter() - self._start
    # With steps_per_execution > 1 one begin/end pair spans several steps.
    steps = max(1, batch - self._begin_batch + 1)
    self.steps_seen += steps
    if self.steps_seen > self.skip_steps:
      self.seconds += elapsed
      self.steps += steps

  def reset(self) -> None:
    self.seconds, self.steps = 0.0, 0


class InputMonitor(_StepTimer):
  """Logs and writes to TensorBoard, per epoch, the data wait against the step time; warns
  when the wait's share passes `threshold`. See the module docstring for the method."""

  def __init__(self, calibration_data, log_dir: str, threshold: float = 0.2,
               calibration_steps: int = 20, warmup_steps: int = 2):
    """calibration_data: one batch of the training input, repeated from memory, e.g.
    `dataset.take(1).cache().repeat()` (per replica, via the strategy, when distributed)."""
    if not 0.0 < threshold <= 1.0:
      raise ValueError(f'threshold must be in (0, 1], got {threshold!r}')
    if calibration_steps < 1:
      raise ValueError(f'calibration_steps must be >= 1, got {calibration_steps!r}')
    if warmup_steps < 0:
      raise ValueError(f'warmup_steps must be >= 0, got {warmup_steps!r}')
    super().__init__(skip_steps=warmup_steps)
    self.calibration_data = calibration_data
    self.log_dir = log_dir
    self.threshold = threshold
    self.calibration_steps = calibration_steps
    self.compute_seconds: Optional[float] = None
    self.reports: List[InputReport] = []
    self._writer = None
    self._clone = None

  def on_train_begin(self, logs=None):
    self._writer = tf.summary.create_file_writer(self.log_dir)

  def on_epoch_begin(self, epoch, logs=None):
    self.reset()

  def on_epoch_end(self, epoch, logs=None):
    if not self.steps:
      logging.info('InputMonitor: epoch %d had no steps after warm-up; nothing measured', epoch)
      return
    # Calibrate after the epoch's steps, so compute and step times are taken under the same
    # conditions (host load drifts); the real pipeline is idle by now, its buffers full.
    self.compute_seconds = self._calibrate()
    report = InputReport(epoch=epoch, steps=self.steps, step_seconds=self.seconds / self.steps,
                         compute_seconds=self.compute_seconds)
    self.reports.append(report)
    with self._writer.as_default():
      tf.summary.scalar('input/step_seconds', report.step_seconds, step=epoch)
      tf.summary.scalar('input/compute_seconds', report.compute_seconds, step=epoch)
      tf.summary.scalar('input/wait_seconds', report.wait_seconds, step=epoch)
      tf.summary.scalar('input/wait_share', report.wait_share, step=epoch)
    self._writer.flush()
    logging.info('InputMonitor: epoch %d: %.2f ms per step: %.2f ms compute, %.2f ms waiting '
                 'for data (%.0f%%), over %d steps', epoch, report.step_seconds * 1e3,
                 report.compute_seconds * 1e3, report.wait_seconds * 1e3,
                 report.wait_share * 100, report.steps)
    if report.wait_share > self.threshold:
      logging.warning('input-bound: %.0f%% of step time waiting for data; %s',
                      report.wait_share * 100, INPUT_BOUND_HINT)

  def on_train_end(self, logs=None):
    self._clone = None
    if self._writer is not None:
      self._writer.close()

  def _calibrate(self) -> float:
    """Seconds per step of the model's clone training on the in-memory batch."""
    model = self.model
    if self._clone is None:
      # The clone's variables must live where the model's do (same strategy) to cost the same.
      with model.distribute_strategy.scope():
        self._clone = tf.keras.models.clone_model(model)
        optimizer = type(model.optimizer).from_config(model.optimizer.get_config())
        self._clone.compile(optimizer=optimizer, loss=model.loss)
    # The first steps are left out: they trace the clone's train function (first call) or
    # start a new iterator.
    timer = _StepTimer(skip_steps=max(1, self.skip_steps))
    self._clone.fit(self.calibration_data, epochs=1, verbose=0, callbacks=[timer],
                    steps_per_epoch=timer.skip_steps + self.calibration_steps)
    return timer.seconds / timer.steps
