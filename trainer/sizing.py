"""How long to train and how big a network, when neither the user nor the dataset says: from
the training row count.

Small tables (a thousand rows) need small batches, many passes, a small network and a strong
weight penalty; large ones fewer passes and a bigger network. Passes are an upper bound: training
stops early on the held-out validation slice and keeps its best weights (trainer/validation.py).
Also the label's moments, which every head starts from (datadefs/tasks.py).
"""

import dataclasses
import math
from typing import Optional, Sequence, Tuple

import tensorflow as tf

from datadefs.tasks import Moments
from trainer import input_pipeline
from trainer import kinds
from trainer.config import DEFAULT_HIDDEN_UNITS, ModelConfig, TrainConfig

EPOCHS = 50            # Passes over the training rows (at most: training stops early)...
MIN_STEPS = 500        # ...but at least this many steps (tiny tables)...
MAX_STEPS = 5000       # ...and at most this many (large ones: set TRAIN_STEPS).
BATCHES_PER_EPOCH = 16  # At least this many batches per pass: the batch shrinks for tiny tables.
MIN_BATCH = 8
MOMENTS_ROWS = 100_000  # Rows read to estimate the label's mean and spread.
# Steps are rounded up to a multiple of this, so a run divides into that many validation checks.
CHECKS = 20
# (at most this many training rows, hidden units, L2 penalty): the first that fits the count.
# Beyond the last: config.DEFAULT_HIDDEN_UNITS and no penalty.
NETWORK_BY_ROWS = (
    (2_000, (32, 16), 1e-3),
    (20_000, (64, 32), 1e-4),
    (200_000, DEFAULT_HIDDEN_UNITS, 1e-5),
)


def count_records(file_patterns: Sequence[str]) -> int:
  """Records in the (TFRecord) files matching the patterns."""
  return input_pipeline.count_records(input_pipeline.list_files(file_patterns))


def fit_to_rows(config: TrainConfig, rows: int, num_replicas: int = 1) -> Tuple[TrainConfig, int]:
  """(config with a batch size for `rows` training rows, number of training steps)."""
  if rows < 1:
    raise ValueError('the training split is empty: there is nothing to train on (check the '
                     'input data and the train/eval split)')
  batch = min(config.batch_size, max(MIN_BATCH, rows // BATCHES_PER_EPOCH))
  # A global batch splits evenly over the replicas.
  batch = max(num_replicas, batch - batch % num_replicas)
  steps = min(MAX_STEPS, max(MIN_STEPS, math.ceil(EPOCHS * rows / batch)))
  steps = math.ceil(steps / CHECKS) * CHECKS
  return dataclasses.replace(config, batch_size=batch, model=network(config.model, rows)), steps


def network(config: ModelConfig, rows: Optional[int]) -> ModelConfig:
  """`config` with what it leaves to the row count filled in: the hidden layers and the L2
  penalty (NETWORK_BY_ROWS); `rows` None (not counted): the defaults, no penalty."""
  units, l2 = DEFAULT_HIDDEN_UNITS, 0.0
  if rows is not None:
    units, l2 = next(((units, l2) for most, units, l2 in NETWORK_BY_ROWS if rows <= most),
                     (DEFAULT_HIDDEN_UNITS, 0.0))
  return dataclasses.replace(config, hidden_units=config.hidden_units or units,
                             l2=l2 if config.l2 < 0 else config.l2)


def label_moments(input_config: input_pipeline.InputConfig,
                  decode: kinds.Decoder, num_classes: int = 0) -> Moments:
  """Mean and standard deviation of the label over (up to MOMENTS_ROWS) training rows; with
  `num_classes` (a multiclass label of class ids), each class's share too."""
  once = dataclasses.replace(input_config, is_training=False, batch_size=1024)
  labels = input_pipeline.make_dataset(once, decode).map(lambda _, label: label)
  batches = list(labels.unbatch().take(MOMENTS_ROWS).batch(MOMENTS_ROWS))
  if not batches:
    raise ValueError('the training split is empty: there is nothing to train on')
  values = tf.cast(batches[0], tf.float64)
  shares = ()
  if num_classes:
    counts = tf.math.bincount(tf.cast(batches[0], tf.int32), minlength=num_classes,
                              maxlength=num_classes, dtype=tf.float64)
    shares = tuple(float(share) for share in (counts / tf.reduce_sum(counts)).numpy())
  return Moments(mean=float(tf.reduce_mean(values)), std=float(tf.math.reduce_std(values)),
                 shares=shares)
