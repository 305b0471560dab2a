"""Throughput of one variant: input-only (iterating the source) and fit (training on it), both in
steady state: warm-up batches are excluded, and a pipeline that caches is first read for one whole
pass (its cache is complete only then; that pass is timed and reported apart). Fit then trains on
the same dataset object, whose completed in-memory cache tf.data shares across iterators."""

import dataclasses
import gc
import statistics
import time
from typing import List, Optional, Tuple

import tensorflow as tf

import datadefs

from bench import variants as variants_lib
from bench.data import BenchData
from trainer import model as model_lib
from trainer.config import ModelConfig, check_at_least


@dataclasses.dataclass(frozen=True)
class MeasureConfig:
  batch_size: int = 256
  repeats: int = 3
  # Batches (steps) excluded before timing: tracing, thread pools, buffers filling.
  warmup_batches: int = 20
  # Timed batches (input-only) and steps (fit) per repeat for the variants that parse in TF...
  timed_batches: int = 500
  # ...and for those that parse in Python (slow: bounded so the benchmark stays short).
  python_timed_batches: int = 30
  model: ModelConfig = ModelConfig()

  def __post_init__(self):
    check_at_least(self, 1, ('batch_size', 'repeats', 'warmup_batches', 'timed_batches',
                             'python_timed_batches'))


@dataclasses.dataclass(frozen=True)
class Measurement:
  input_ex_per_s: float  # median of input_repeats
  fit_ex_per_s: float  # median of fit_repeats
  input_repeats: List[float]
  fit_repeats: List[float]
  timed_batches: int  # per repeat, input-only batches and fit steps alike
  caches: bool
  # Caching pipelines only: input-only throughput over the first pass, while the cache fills.
  first_pass_input_ex_per_s: Optional[float] = None


def _drain(iterator, steps):
  """Pulls `steps` batches inside one tf.function (no Python per batch); returns examples."""
  examples = tf.constant(0, tf.int64)
  for _ in tf.range(steps):
    _, label = iterator.get_next()
    examples += tf.shape(label, out_type=tf.int64)[0]
  return examples


_drain_fn = tf.function(_drain)


class DatasetPuller:
  """Pulls batches of a tf.data source."""

  def __init__(self, dataset: tf.data.Dataset):
    self._iterator = iter(dataset)

  def pull(self, batches: int) -> int:
    return int(_drain_fn(self._iterator, tf.constant(batches, tf.int64)))

  def close(self):
    self._iterator = None


class SequencePuller:
  """Pulls batches the way fit does: an OrderedEnqueuer with the variant's worker threads."""

  def __init__(self, sequence: tf.keras.utils.Sequence, workers: int):
    self._enqueuer = tf.keras.utils.OrderedEnqueuer(sequence, use_multiprocessing=False)
    self._enqueuer.start(workers=workers, max_queue_size=10)
    self._batches = self._enqueuer.get()

  def next_batch(self):
    return next(self._batches)

  def pull(self, batches: int) -> int:
    examples = 0
    for _ in range(batches):
      _, label = self.next_batch()
      examples += len(label)
    return examples

  def close(self):
    self._enqueuer.stop()


def _puller(variant: variants_lib.Variant, source):
  if isinstance(source, tf.data.Dataset):
    return DatasetPuller(source)
  return SequencePuller(source, variant.workers)


def _timed(fn, *args):
  start = time.perf_counter()
  result = fn(*args)
  return result, time.perf_counter() - start


def measure_input(variant: variants_lib.Variant, source, config: MeasureConfig,
                  timed_batches: int,
                  first_pass_batches: int = 0) -> Tuple[List[float], Optional[float]]:
  """Input-only examples/s per repeat, and over the first pass when `first_pass_batches`."""
  puller = _puller(variant, source)
  first_pass = None
  try:
    if first_pass_batches:
      # The first pass fills the cache; its time (iterator start-up included) is reported apart.
      examples, seconds = _timed(puller.pull, first_pass_batches)
      first_pass = examples / seconds
    puller.pull(config.warmup_batches)
    rates = []
    for _ in range(config.repeats):
      examples, seconds = _timed(puller.pull, timed_batches)
      rates.append(examples / seconds)
  finally:
    puller.close()
  return rates, first_pass


class _StepClock(tf.keras.callbacks.Callback):
  """Records when each training step ends."""

  def __init__(self):
    super().__init__()
    self._supports_tf_logs = True  # Leave the logs as tensors: no per-step host sync.
    self.times: List[float] = []

  def on_train_batch_end(self, batch, logs=None):
    self.times.append(time.perf_counter())


def seeded_model(config: ModelConfig) -> tf.keras.Model:
  """The benchmark's model, with the same initial weights for every variant."""
  tf.keras.utils.set_random_seed(0)
  return model_lib.build_keras_model(datadefs.load('taxi'), config)


def measure_fit(variant: variants_lib.Variant, source, config: MeasureConfig,
                timed_steps: int) -> List[float]:
  """Fit examples/s per repeat: windows of `timed_steps` steps after the warm-up steps."""
  warmup = config.warmup_batches
  model = seeded_model(config.model)
  clock = _StepClock()
  extra = {}
  if isinstance(source, tf.keras.utils.Sequence):
    extra = {'workers': variant.workers, 'use_multiprocessing': False, 'max_queue_size': 10}
  # One fit call: warm-up steps, then `repeats` timed windows of steps.
  total = warmup + config.repeats * timed_steps
  model.fit(source, epochs=1, steps_per_epoch=total, shuffle=False, verbose=0,
            callbacks=[clock], **extra)
  times = clock.times
  if len(times) != total:
    raise RuntimeError(f'{variant.name}: fit ran {len(times)} of {total} steps')
  start = warmup - 1
  return [
      timed_steps * config.batch_size /
      (times[start + (r + 1) * timed_steps] - times[start + r * timed_steps])
      for r in range(config.repeats)
  ]


def measure(variant: variants_lib.Variant, data: BenchData,
            config: MeasureConfig) -> Measurement:
  caches = variants_lib.caches(variant, data, config.batch_size)
  timed = config.python_timed_batches if variant.python_reader else config.timed_batches
  try:
    source = variant.make(data, config.batch_size)
    # Input-only first: for a caching pipeline it completes the cache that fit then reads.
    input_rates, first_pass = measure_input(
        variant, source, config, timed,
        first_pass_batches=data.examples // config.batch_size if caches else 0)
    fit_rates = measure_fit(variant, source, config, timed)
  finally:
    # Free this variant's cache, threads and graphs before the next one is measured.
    source = None
    tf.keras.backend.clear_session()
    gc.collect()
  return Measurement(
      input_ex_per_s=statistics.median(input_rates), fit_ex_per_s=statistics.median(fit_rates),
      input_repeats=input_rates, fit_repeats=fit_rates, timed_batches=timed, caches=caches,
      first_pass_input_ex_per_s=first_pass)
