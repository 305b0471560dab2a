"""Where augmentation runs, on CPU, for the small CNN (trainer/images/models.py small_cnn):

  in_model   the model as the trainer builds it: the definition's Keras random layers at its
             front, run inside every training step;
  host       the same layers applied in a tf.data map (batched, parallel) before the step, and
             the model built without them (augmentation off in its definition).

Both read the same preloaded uint8 arrays (from_tensor_slices), so only the augmentation's
place differs. Training steps per second from Keras' own fit: one fit call per variant per
round, alternating, the first `warmup_steps` of each call untimed; the median over rounds.
"""

import dataclasses
import statistics
import time
from typing import Callable, Dict, List

import numpy as np
import tensorflow as tf

import datadefs
from datadefs.images.spec import IMAGE_FEATURE, Augmentation
from trainer.config import ModelConfig, check_at_least
from trainer.images.models import augmentation_layers, small_cnn

DATASET = 'digits'


@dataclasses.dataclass(frozen=True)
class AugmentProtocol:
  batch_size: int = 32
  rounds: int = 3
  warmup_steps: int = 5
  timed_steps: int = 30

  def __post_init__(self):
    check_at_least(self, 1, ('batch_size', 'rounds', 'warmup_steps', 'timed_steps'))


class _StepClock(tf.keras.callbacks.Callback):
  """When each training step ends (logs left as tensors: no per-step host sync)."""

  def __init__(self):
    super().__init__()
    self._supports_tf_logs = True
    self.times: List[float] = []

  def on_train_batch_end(self, batch, logs=None):
    self.times.append(time.perf_counter())


def _dataset_definition(size: int, augmentation: Augmentation):
  dataset = datadefs.load(DATASET)
  image = dataclasses.replace(dataset.image, size=size, augmentation=augmentation)
  return dataclasses.replace(dataset, image=image)


def _source(images: np.ndarray, labels: np.ndarray, batch_size: int) -> tf.data.Dataset:
  dataset = tf.data.Dataset.from_tensor_slices(({IMAGE_FEATURE: images}, labels))
  return (dataset.shuffle(len(labels), seed=0).repeat()
          .batch(batch_size, drop_remainder=True))


def host_augmented(dataset: tf.data.Dataset, augmentation: Augmentation) -> tf.data.Dataset:
  """The dataset with `augmentation`'s random layers applied to each batch in a parallel map,
  back to uint8 (the model's input)."""
  augment = tf.keras.Sequential(augmentation_layers(augmentation))

  def apply(features, label):
    pixels = augment(tf.cast(features[IMAGE_FEATURE], tf.float32), training=True)
    pixels = tf.cast(tf.round(tf.clip_by_value(pixels, 0.0, 255.0)), tf.uint8)
    return {IMAGE_FEATURE: pixels}, label

  return dataset.map(apply, num_parallel_calls=tf.data.AUTOTUNE)


def make_variants(images: np.ndarray, labels: np.ndarray, size: int,
                  protocol: AugmentProtocol) -> Dict[str, tuple]:
  """{name: (model, dataset)} of both places, from the same seeded initial weights."""
  augmentation = datadefs.load(DATASET).image.augmentation
  source = _source(images, labels, protocol.batch_size)
  tf.keras.utils.set_random_seed(0)
  in_model = small_cnn(_dataset_definition(size, augmentation), ModelConfig())
  tf.keras.utils.set_random_seed(0)
  host = small_cnn(_dataset_definition(size, Augmentation()), ModelConfig())
  return {
      'in_model': (in_model, source.prefetch(tf.data.AUTOTUNE)),
      'host': (host, host_augmented(source, augmentation).prefetch(tf.data.AUTOTUNE)),
  }


def fit_steps_per_s(model: tf.keras.Model, dataset: tf.data.Dataset,
                    protocol: AugmentProtocol) -> float:
  clock = _StepClock()
  total = protocol.warmup_steps + protocol.timed_steps
  model.fit(dataset, epochs=1, steps_per_epoch=total, verbose=0, callbacks=[clock])
  if len(clock.times) != total:
    raise RuntimeError(f'fit ran {len(clock.times)} of {total} steps')
  start = clock.times[protocol.warmup_steps - 1]
  return protocol.timed_steps / (clock.times[-1] - start)


def measure(images: np.ndarray, labels: np.ndarray, size: int, protocol: AugmentProtocol,
            log: Callable[[str], None] = lambda _: None) -> Dict[str, object]:
  """Steps/s per place of augmentation: median over alternated rounds, and the runs."""
  variants = make_variants(images, labels, size, protocol)
  runs: Dict[str, List[float]] = {name: [] for name in variants}
  for round_index in range(protocol.rounds):
    for name, (model, dataset) in variants.items():
      rate = fit_steps_per_s(model, dataset, protocol)
      runs[name].append(rate)
      log(f'  augmentation round {round_index + 1}/{protocol.rounds} {name}: {rate:.2f} steps/s')
  tf.keras.backend.clear_session()
  return {
      'size': size,
      'batch_size': protocol.batch_size,
      'timed_steps_per_run': protocol.timed_steps,
      'augmentation': dataclasses.asdict(datadefs.load(DATASET).image.augmentation),
      'steps_per_s': {name: statistics.median(rates) for name, rates in runs.items()},
      'runs': runs,
  }
