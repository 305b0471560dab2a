"""Throughput of one variant: input-only (iterating the source) and fit (training on it), both in
steady state: warm-up batches are excluded, and a pipeline that caches is first read for one whole
pass (its cache is complete only then; that pass is timed and reported apart). Fit then trains on
the same dataset object, whose completed in-memory cache tf.data shares across iterators."""

import dataclasses
import gc
import statistics
import time
from typing import List, Optional

import tensorflow as tf

from bench import variants as variants_lib
from bench.data import BenchData
from trainer import model as model_lib
from trainer.config import ModelConfig


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
    for name in ('batch_size', 'repeats', 'warmup_batches', 'timed_batches',
                 'python_timed_batches'):
      if getattr(self, name) < 1:
        raise ValueError(f'{name} must be >= 1, got {getattr(self, name)!r}')


@dataclasses.dataclass
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


class _DatasetPuller:

  def __init__(self, dataset: tf.data.Dataset):
    self._iterator = iter(dataset)

  def pull(self, batches: int) -> int:
    return int(_drain_fn(self._iterator, tf.constant(batches, tf.int64)))

  def close(self):
    self._iterator = None


class _SequencePuller:
  """Pulls batches the way fit does: an OrderedEnqueuer with the variant's worker threads."""

  def __init__(self, sequence: tf.keras.utils.Sequence, workers: int):
    self._enqueuer = tf.keras.utils.OrderedEnqueuer(sequence, use_multiprocessing=False)
    self._enqueuer.start(workers=workers, max_queue_size=10)
    self._batches = self._enqueuer.get()

  def pull(self, batches: int) -> int:
    examples = 0
    for _ in range(batches):
      _, label = next(self._batches)
      examples += len(label)
    return examples

  def close(self):
    self._enqueuer.stop()


def _puller(variant: variants_lib.Variant, source):
  if isinstance(source, tf.data.Dataset):
    return _DatasetPuller(source)
  return _SequencePuller(source, variant.workers)


def _timed(fn, *args):
  start = time.perf_counter()
  result = fn(*args)
  return result, time.perf_counter() - start


def measure_input(variant: variants_lib.Variant, source, data: BenchData,
                  config: MeasureConfig, caches: bool, timed_batches: int, result: dict) -> None:
  puller = _puller(variant, source)
  try:
    if caches:
      # The first pass fills the cache; its time (iterator start-up included) is reported apart.
      examples, seconds = _timed(puller.pull, data.examples // config.batch_size)
      result['first_pass_input_ex_per_s'] = examples / seconds
    puller.pull(config.warmup_batches)
    rates = []
    for _ in range(config.repeats):
      examples, seconds = _timed(puller.pull, timed_batches)
      rates.append(examples / seconds)
  finally:
    puller.close()
  result['input_repeats'] = rates


class _StepClock(tf.keras.callbacks.Callback):
  """Records when each training step ends."""

  def __init__(self):
    super().__init__()
    self._supports_tf_logs = True  # Leave the logs as tensors: no per-step host sync.
    self.times: List[float] = []

  def on_train_batch_end(self, batch, logs=None):
    self.times.append(time.perf_counter())


def measure_fit(variant: variants_lib.Variant, source, config: MeasureConfig,
                timed_steps: int, result: dict) -> None:
  warmup = config.warmup_batches
  # Same initial weights for every variant.
  tf.keras.utils.set_random_seed(0)
  model = model_lib.build_keras_model(config.model)
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
  result['fit_repeats'] = [
      timed_steps * config.batch_size /
      (times[start + (r + 1) * timed_steps] - times[start + r * timed_steps])
      for r in range(config.repeats)
  ]


def measure(variant: variants_lib.Variant, data: BenchData,
            config: MeasureConfig) -> Measurement:
  caches = variants_lib.caches(variant, data, config.batch_size)
  timed = config.python_timed_batches if variant.python_reader else config.timed_batches
  result = {}
  try:
    source = variant.make(data, config.batch_size)
    # Input-only first: for a caching pipeline it completes the cache that fit then reads.
    measure_input(variant, source, data, config, caches, timed, result)
    measure_fit(variant, source, config, timed, result)
    del source
  finally:
    # Free this variant's cache, threads and graphs before the next one is measured.
    tf.keras.backend.clear_session()
    gc.collect()
  return Measurement(
      input_ex_per_s=statistics.median(result['input_repeats']),
      fit_ex_per_s=statistics.median(result['fit_repeats']),
      input_repeats=result['input_repeats'], fit_repeats=result['fit_repeats'],
      timed_batches=timed, caches=caches,
      first_pass_input_ex_per_s=result.get('first_pass_input_ex_per_s'))
