"""InputMonitor: a Keras callback saying, per epoch, whether training waits for its data.

What it measures, at the end of each epoch (after the epoch's steps, so the training input is
idle and its buffers full):
  * step: the median time of the epoch's real training steps, from `on_train_batch_begin` to
    `on_train_batch_end` (Keras fetches each batch inside the compiled train function);
  * input: the median time the training input alone takes to deliver a batch, read from a
    fresh iterator over the same dataset (nothing trains meanwhile);
  * compute: the median step time of a clone of the model (same architecture, optimizer, loss
    and metrics, its own variables) training on one batch held in memory, so its input costs
    nothing.
Medians, not means: a shared host's hiccups and the first step of a data epoch (the in-memory
input permutes its columns then) are rare, large outliers.

The verdict (`InputReport.verdict`):
  * not input-bound when the input alone delivers a batch in at most half a step: a prefetching
    pipeline that fast keeps ahead of the model, whatever the rest of the step is;
  * input-bound when the input alone takes most of a step (at least 80%) and the step is
    longer than the clone's compute by more than the threshold's share: the model waits;
  * otherwise it cannot tell, and says why. Between the two, on a CPU-only host, the input's
    work competes with the model's for the same cores, and the step minus the clone's compute
    mixes waiting with fit's own per-step work (callbacks, the logs it hands them): at
    millisecond steps that overhead alone is tens of percent of a step (measured on the taxi
    model: the clone's step against the same model fed the same in-memory batch differed by
    0-34% from one epoch to the next).

The share of step time spent waiting is (step - compute) / step; it is reported with every
verdict, and only an input-bound verdict warns.

Assumptions, and what breaks them:
  * A step's compute time does not depend on the batch's values (fixed shapes, no
    data-dependent control flow): true for these models.
  * The clone is built with tf.keras.models.clone_model: functional or Sequential models only;
    it doubles the model's memory while training, and its tracing costs a few seconds once.
  * Under a distribution strategy the clone trains under the same strategy, so the compute
    time includes the gradient all-reduce; every worker measures its own input.
"""

import statistics
import time
from typing import List, Optional

from absl import logging
import tensorflow as tf

from trainer.input_verdict import INPUT_BOUND, VERDICT_CODES, InputReport

# Where the warning points: the docs on input performance, and what usually helps.
INPUT_BOUND_HINT = ('see docs/input-pipeline.md: raise cycle_length, enable the cache '
                    '(cache_budget_bytes), check the shard count (NUM_SHARDS)')
class _StepTimer(tf.keras.callbacks.Callback):
  """Times training batches, begin to end, after the first `skip_steps` steps."""

  def __init__(self, skip_steps: int):
    super().__init__()
    self.skip_steps = skip_steps
    self.steps_seen = 0
    self.step_times: List[float] = []
    self._start = 0.0
    self._begin_batch = 0

  @property
  def steps(self) -> int:
    return len(self.step_times)

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
      self.step_times.extend([elapsed / steps] * steps)

  def reset(self) -> None:
    self.step_times = []


class InputMonitor(_StepTimer):
  """Logs and writes to TensorBoard, per epoch, the step, compute and input times and the
  verdict; warns when input-bound. See the module docstring for the method."""

  def __init__(self, calibration_data, log_dir: str, threshold: float = 0.2,
               calibration_steps: int = 20, warmup_steps: int = 2, input_data=None,
               input_batches: int = 20, input_seconds_budget: float = 1.0):
    """calibration_data: one batch of the training input, repeated from memory, e.g.
    `dataset.take(1).cache().repeat()` (per replica, via the strategy, when distributed).
    input_data: the training dataset itself (the one fit reads), timed alone at each epoch's
    end for up to `input_batches` batches or `input_seconds_budget` seconds."""
    if not 0.0 < threshold <= 1.0:
      raise ValueError(f'threshold must be in (0, 1], got {threshold!r}')
    if calibration_steps < 1:
      raise ValueError(f'calibration_steps must be >= 1, got {calibration_steps!r}')
    if warmup_steps < 0:
      raise ValueError(f'warmup_steps must be >= 0, got {warmup_steps!r}')
    if input_batches < 1:
      raise ValueError(f'input_batches must be >= 1, got {input_batches!r}')
    super().__init__(skip_steps=warmup_steps)
    self.calibration_data = calibration_data
    self.input_data = input_data
    self.input_batches = input_batches
    self.input_seconds_budget = input_seconds_budget
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
    step_seconds = statistics.median(self.step_times)
    steps = self.steps
    input_seconds = self._time_input() if self.input_data is not None else None
    self.compute_seconds = self._calibrate()
    report = InputReport(epoch=epoch, steps=steps, step_seconds=step_seconds,
                         compute_seconds=self.compute_seconds, input_seconds=input_seconds,
                         threshold=self.threshold)
    self.reports.append(report)
    with self._writer.as_default():
      tf.summary.scalar('input/step_seconds', report.step_seconds, step=epoch)
      tf.summary.scalar('input/compute_seconds', report.compute_seconds, step=epoch)
      tf.summary.scalar('input/wait_seconds', report.wait_seconds, step=epoch)
      tf.summary.scalar('input/wait_share', report.wait_share, step=epoch)
      if input_seconds is not None:
        tf.summary.scalar('input/input_seconds', input_seconds, step=epoch)
      tf.summary.scalar('input/verdict', VERDICT_CODES[report.verdict], step=epoch)
    self._writer.flush()
    logging.info('InputMonitor: epoch %d, %d steps: %s', epoch, report.steps, report.explain())
    if report.verdict == INPUT_BOUND:
      logging.warning('input-bound: %.0f%% of step time waiting for data; %s',
                      report.wait_share * 100, INPUT_BOUND_HINT)

  def on_train_end(self, logs=None):
    self._clone = None
    if self._writer is not None:
      self._writer.close()

  def _time_input(self) -> float:
    """Median seconds per batch of the training input alone, from a fresh iterator (its
    first batch, which starts the pipeline, left out)."""
    iterator = iter(self.input_data)
    next(iterator)
    times, deadline = [], time.perf_counter() + self.input_seconds_budget
    while len(times) < self.input_batches and (not times or time.perf_counter() < deadline):
      start = time.perf_counter()
      batch = next(iterator)
      # The values, not just their handles: a batch is delivered once it can be read.
      tf.nest.map_structure(_materialize, batch)
      times.append(time.perf_counter() - start)
    return statistics.median(times)

  def _calibrate(self) -> float:
    """Median seconds per step of the model's clone training on the in-memory batch."""
    model = self.model
    if self._clone is None:
      # The clone's variables must live where the model's do (same strategy) to cost the same.
      with model.distribute_strategy.scope():
        self._clone = tf.keras.models.clone_model(model)
        optimizer = type(model.optimizer).from_config(model.optimizer.get_config())
        # The same metrics: at millisecond steps their updates are a measurable part of one.
        metrics = [type(metric).from_config(metric.get_config())
                   for metric in model.compiled_metrics.metrics] if model.compiled_metrics else []
        self._clone.compile(optimizer=optimizer, loss=model.loss, metrics=metrics)
    # The first steps are left out: they trace the clone's train function (first call) or
    # start a new iterator.
    timer = _StepTimer(skip_steps=max(1, self.skip_steps))
    self._clone.fit(self.calibration_data, epochs=1, verbose=0, callbacks=[timer],
                    steps_per_epoch=timer.skip_steps + self.calibration_steps)
    return statistics.median(timer.step_times)


def _materialize(value):
  """Waits for a tensor (or each replica's) to be computed."""
  parts = value.values if isinstance(value, tf.distribute.DistributedValues) else (value,)
  for part in parts:
    if isinstance(part, tf.Tensor):
      part.numpy()
  return value
