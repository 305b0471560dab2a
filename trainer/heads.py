"""The model's last layer, loss and metrics for each task.

binary: one sigmoid unit, P(label = 1); multiclass: a softmax over the classes; regression: one
linear unit, scaled to the label's spread around its mean so training starts near the answer
(Adam moves a bias by about the learning rate per step: a fare of $12 would take thousands of
steps to reach from 0).
"""

import dataclasses
from typing import Any, Callable, List, Optional

import tensorflow as tf


# The Keras metric each head reports, which the blessing threshold and the Tuner's objective use.
KERAS_METRIC = {'binary': 'binary_accuracy', 'multiclass': 'sparse_categorical_accuracy',
                'regression': 'mean_absolute_error'}


@dataclasses.dataclass(frozen=True)
class Moments:
  """Mean and standard deviation of the training label."""
  mean: float
  std: float


@dataclasses.dataclass(frozen=True)
class Head:
  output: Callable[[tf.Tensor], tf.Tensor]
  loss: Any  # A Keras loss name or object.
  metrics: Callable[[], List[tf.keras.metrics.Metric]]


def for_task(task: str, num_classes: int, moments: Optional[Moments] = None) -> Head:
  if task == 'binary':
    return Head(
        output=tf.keras.layers.Dense(1, activation='sigmoid', name='probability'),
        loss='binary_crossentropy',
        metrics=lambda: [tf.keras.metrics.BinaryAccuracy()])
  if task == 'multiclass':
    if num_classes < 2:
      raise ValueError(f'a multiclass head needs at least 2 classes, got {num_classes}')
    return Head(
        output=tf.keras.layers.Dense(num_classes, activation='softmax', name='probabilities'),
        loss='sparse_categorical_crossentropy',
        metrics=lambda: [tf.keras.metrics.SparseCategoricalAccuracy()])
  if task == 'regression':
    moments = moments or Moments(0.0, 1.0)
    # A zero spread (a constant label) would scale every prediction to the mean.
    scale = moments.std if moments.std > 0 else 1.0

    def output(hidden):
      standardized = tf.keras.layers.Dense(1, name='standardized_prediction')(hidden)
      return tf.keras.layers.Rescaling(scale, offset=moments.mean, name='prediction')(
          standardized)

    return Head(
        output=output,
        # Huber: squared error near the answer, absolute far off, so a few extreme fares
        # do not dominate; delta of one spread.
        loss=tf.keras.losses.Huber(delta=scale),
        metrics=lambda: [tf.keras.metrics.MeanAbsoluteError()])
  raise ValueError(f'task must be binary, multiclass or regression, got {task!r}')
