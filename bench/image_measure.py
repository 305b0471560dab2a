"""Timed passes of the image input variants, alternated within one sitting: round after round,
every variant runs one timed run, so drift of a shared host hits all variants alike; each
variant's figure is the median over rounds.

A run times whole passes over the images (pass = images // batch_size batches). A variant that
does not cache keeps one iterator for the sitting (steady state, as in a long training); each
run first reads one pass untimed, which takes whatever the pipeline made ahead (prefetch and
shuffle buffers, Keras' queue) while the other variants ran. A caching variant is made anew for
every run: its first pass (make and start-up included: what the first epoch of a training
costs) and the next `memory_passes` (from the cache) are timed apart.
"""

import dataclasses
import gc
import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence

import tensorflow as tf

from bench import image_variants as variants_lib
from bench import measure as measure_lib
from bench.image_data import ImageBenchData
from trainer.config import check_at_least


@dataclasses.dataclass(frozen=True)
class Protocol:
  batch_size: int = 64
  rounds: int = 3
  # Passes timed per run by a variant that decodes on every pass...
  passes: int = 1
  # ...and by one reading from memory (the warm passes of a caching variant, the ceiling): a
  # pass from memory takes milliseconds, too short to time alone.
  memory_passes: int = 20

  def __post_init__(self):
    check_at_least(self, 1, ('batch_size', 'rounds', 'passes', 'memory_passes'))


class SequenceIndexer:
  """Indexes a Sequence in the calling thread, as a loop over `sequence[i]` does."""

  def __init__(self, sequence: tf.keras.utils.Sequence):
    self._sequence = sequence
    self._next = 0

  def pull(self, batches: int) -> int:
    examples = 0
    for _ in range(batches):
      _, label = self._sequence[self._next % len(self._sequence)]
      self._next += 1
      examples += len(label)
    return examples

  def close(self):
    self._sequence = None


def puller(variant: variants_lib.Variant, source):
  if isinstance(source, tf.data.Dataset):
    return measure_lib.DatasetPuller(source)
  if not variant.workers:
    return SequenceIndexer(source)
  return measure_lib.SequencePuller(source, variant.workers)


def batches_per_pass(data: ImageBenchData, protocol: Protocol) -> int:
  batches = data.images // protocol.batch_size
  if batches < 1:
    raise ValueError(f'{data.images} images make no batch of {protocol.batch_size}: use a '
                     f'smaller --batch-size or more images')
  return batches


def _timed(fn: Callable[[], int]):
  start = time.perf_counter()
  examples = fn()
  return examples / (time.perf_counter() - start)


def run_once(variant: variants_lib.Variant, data: ImageBenchData, protocol: Protocol,
             pull=None, batches: Optional[int] = None) -> Dict[str, float]:
  """One run: {'images_per_s'} (the warm passes of a caching variant) and, for a caching
  variant, {'first_pass_images_per_s'} (make included) and {'make_seconds'}. A caching variant is made here; any other is read
  through `pull`, its puller kept across runs, one untimed pass first. `batches` (tests,
  warm-up) overrides a pass's size."""
  per_pass = batches or batches_per_pass(data, protocol)
  result = {}
  if variant.caches:
    start = time.perf_counter()
    source = variant.make(data, protocol.batch_size)
    result['make_seconds'] = time.perf_counter() - start
    pull = puller(variant, source)
    try:
      examples = pull.pull(per_pass)
      result['first_pass_images_per_s'] = examples / (time.perf_counter() - start)
      result['images_per_s'] = _timed(lambda: pull.pull(protocol.memory_passes * per_pass))
    finally:
      pull.close()
  else:
    # The untimed pass takes what the pipeline made ahead while other variants ran.
    pull.pull(per_pass)
    passes = protocol.memory_passes if variant.from_memory else protocol.passes
    result['images_per_s'] = _timed(lambda: pull.pull(passes * per_pass))
  return result


def alternate(variants: Sequence[variants_lib.Variant], data: ImageBenchData,
              protocol: Protocol, log: Callable[[str], None] = lambda _: None
              ) -> Dict[str, Dict[str, object]]:
  """Every variant once per round, `protocol.rounds` rounds after an untimed warm-up run of two
  batches each (traces, thread pools); per variant its runs and their medians."""
  pullers = {v.name: puller(v, v.make(data, protocol.batch_size))
             for v in variants if not v.caches}
  runs: Dict[str, List[Dict[str, float]]] = {v.name: [] for v in variants}
  try:
    for variant in variants:
      run_once(variant, data, protocol, pullers.get(variant.name), batches=2)
    for round_index in range(protocol.rounds):
      for variant in variants:
        result = run_once(variant, data, protocol, pullers.get(variant.name))
        runs[variant.name].append(result)
        log(f'  {data.size}px round {round_index + 1}/{protocol.rounds} {variant.name}: '
            + ', '.join(f'{k} {v:,.2f}' for k, v in result.items()))
        gc.collect()
  finally:
    for pull in pullers.values():
      pull.close()
    pullers.clear()
    tf.keras.backend.clear_session()
  summary = {}
  for variant in variants:
    results = runs[variant.name]
    entry: Dict[str, object] = {
        'description': variant.description,
        'images_per_s': statistics.median(r['images_per_s'] for r in results),
        'runs': [r['images_per_s'] for r in results],
    }
    if variant.caches:
      firsts = [r['first_pass_images_per_s'] for r in results]
      entry['first_pass_images_per_s'] = statistics.median(firsts)
      entry['first_pass_runs'] = firsts
      entry['make_seconds'] = statistics.median(r['make_seconds'] for r in results)
    summary[variant.name] = entry
  return summary
