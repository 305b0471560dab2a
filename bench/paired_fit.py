"""Fit throughput against the in-memory ceiling, measured in alternation.

`measure.measure_fit` times each variant in its own stretch of time, one after the other. On a
shared 2-core machine the host's speed drifts between those stretches by more than the
variants differ (the ceiling's own repeats spread by 40%). Here every variant keeps its model,
train function and input iterator alive, and short windows of training steps rotate between
them, round after round: each window of a variant is compared with the ceiling's window of the
same round, a few hundred milliseconds away, and the ratio is the median over rounds.

Only a variant whose input keeps up with training is paired (input-only throughput at least
KEEPS_UP times the ceiling's fit): its pipeline keeps producing into its prefetch buffers
(tf.data's autotuning may grow them to hundreds of batches) while the others train, and a
pipeline that cannot keep up then trains on batches made for free. One parsing record by
record measured 3.1x its stand-alone fit that way, 2.7x with 100 untimed steps (`lead_steps`,
kept to drain the buffers before each window) in front of every window.

The step is Keras' own: `model.make_train_function()`, the function `fit` calls once per step,
on an iterator of the variant's dataset (for a caching variant, after one full pass has
completed its cache).
"""

import dataclasses
import statistics
import time
from typing import Dict, List, Sequence

import tensorflow as tf

from bench import measure as measure_lib
from bench import variants as variants_lib
from bench.data import BenchData
from trainer.config import ModelConfig, check_at_least

CEILING = variants_lib.CEILING
# Input-only throughput over the ceiling's fit from which a variant is paired (see above).
KEEPS_UP = 2.0


def keeps_up(input_ex_per_s: float, ceiling_fit_ex_per_s: float) -> bool:
  return input_ex_per_s >= KEEPS_UP * ceiling_fit_ex_per_s


@dataclasses.dataclass(frozen=True)
class PairedConfig:
  batch_size: int = 256
  rounds: int = 20
  window_steps: int = 100
  lead_steps: int = 100
  warmup_steps: int = 30
  model: ModelConfig = ModelConfig()

  def __post_init__(self):
    check_at_least(self, 1, ('batch_size', 'rounds', 'window_steps', 'lead_steps',
                             'warmup_steps'))


@dataclasses.dataclass(frozen=True)
class PairedResult:
  """Per variant: examples/s of each round's window, and its ratio to the ceiling's."""
  rates: Dict[str, List[float]]
  ratios: Dict[str, List[float]]

  def median_ratio(self, name: str) -> float:
    return statistics.median(self.ratios[name])

  def to_json(self) -> Dict[str, object]:
    return {name: {'median_ratio_to_ceiling': self.median_ratio(name),
                   'median_ex_per_s': statistics.median(self.rates[name]),
                   'ratios': self.ratios[name], 'ex_per_s': self.rates[name]}
            for name in self.ratios}


class _Trainer:
  """One variant's model, train function and live iterator."""

  def __init__(self, variant: variants_lib.Variant, data: BenchData, config: PairedConfig):
    source = variant.make(data, config.batch_size)
    if not isinstance(source, tf.data.Dataset):
      raise ValueError(f'{variant.name}: paired fit needs a tf.data source, got '
                       f'{type(source).__name__}')
    self._iterator = iter(source)
    if variants_lib.caches(variant, data, config.batch_size):
      for _ in range(data.examples // config.batch_size):  # Completes the cache.
        next(self._iterator)
    model = measure_lib.seeded_model(config.model)
    self._step = model.make_train_function()
    self.train(config.warmup_steps)  # Tracing, thread pools, buffers.

  def train(self, steps: int) -> float:
    """Seconds for `steps` training steps, their results fetched."""
    start = time.perf_counter()
    for _ in range(steps):
      logs = self._step(self._iterator)
    float(logs['loss'])
    return time.perf_counter() - start


def measure(names: Sequence[str], data: BenchData, config: PairedConfig) -> PairedResult:
  """Rotates windows between the ceiling and `names` (the order turns every round)."""
  all_names = [CEILING] + [name for name in names if name != CEILING]
  trainers = {variant.name: _Trainer(variant, data, config)
              for variant in variants_lib.by_name(all_names)}
  rates: Dict[str, List[float]] = {name: [] for name in all_names}
  for round_index in range(config.rounds):
    shift = round_index % len(all_names)
    for name in all_names[shift:] + all_names[:shift]:
      trainers[name].train(config.lead_steps)  # Untimed: drains what was buffered meanwhile.
      seconds = trainers[name].train(config.window_steps)
      rates[name].append(config.window_steps * config.batch_size / seconds)
  ratios = {name: [rate / ceiling for rate, ceiling in zip(rates[name], rates[CEILING])]
            for name in all_names if name != CEILING}
  return PairedResult(rates={name: rates[name] for name in all_names}, ratios=ratios)
