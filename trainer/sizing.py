"""How long to train when neither the user nor the dataset says: from the training row count.

Small tables (a thousand rows) need small batches and many passes; large ones fewer passes.
Also the label's mean and spread, which a regression head is scaled by (datadefs/tasks.py).
"""

import dataclasses
import math
from typing import Sequence, Tuple

import tensorflow as tf

from datadefs.tasks import Moments
from trainer import input_pipeline
from trainer import kinds
from trainer.config import TrainConfig

EPOCHS = 30            # Passes over the training rows...
MIN_STEPS = 500        # ...but at least this many steps (tiny tables)...
MAX_STEPS = 5000       # ...and at most this many (large ones: set TRAIN_STEPS).
BATCHES_PER_EPOCH = 16  # At least this many batches per pass: the batch shrinks for tiny tables.
MIN_BATCH = 8
MOMENTS_ROWS = 100_000  # Rows read to estimate the label's mean and spread.


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
  return dataclasses.replace(config, batch_size=batch), steps


def label_moments(input_config: input_pipeline.InputConfig,
                  decode: kinds.Decoder) -> Moments:
  """Mean and standard deviation of the label over (up to MOMENTS_ROWS) training rows."""
  once = dataclasses.replace(input_config, is_training=False, batch_size=1024)
  labels = input_pipeline.make_dataset(once, decode).map(lambda _, label: label)
  batches = list(labels.unbatch().take(MOMENTS_ROWS).batch(MOMENTS_ROWS))
  if not batches:
    raise ValueError('the training split is empty: there is nothing to train on')
  values = tf.cast(batches[0], tf.float64)
  return Moments(mean=float(tf.reduce_mean(values)),
                       std=float(tf.math.reduce_std(values)))
