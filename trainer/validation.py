"""Training that cannot end worse than it started: a validation slice held out of the training
split, checked at the start and every few steps; training stops when it stops improving and
keeps the best weights seen, the starting ones included.

Every head starts from the label's prior (datadefs/tasks.py: the naive baseline's prediction),
so the weights kept are never worse on the slice than always predicting the prior. The slice is
one in `holdout_buckets` training examples by a hash of the example (trainer/input_pipeline.py):
the same examples every pass and every run, and never the eval split, which the Evaluator
judges the model on.

Keras' EarlyStopping keeps the best weights of the epochs it saw, not the starting ones, and
compares losses with the weight penalty in them (which the starting weights do not share):
so this callback, which compares the data loss alone.
"""

import dataclasses
from typing import List, Optional, Tuple

from absl import logging
import tensorflow as tf

from trainer import input_pipeline

MAX_CHECKS = 20  # Validation checks per run, at most...
MIN_STEPS_PER_CHECK = 10  # ...with at least this many steps between two.


def holdout_inputs(train_input: input_pipeline.InputConfig, eval_batch_size: int,
                   max_examples: int, holdout_buckets: int
                   ) -> Tuple[input_pipeline.InputConfig, Optional[input_pipeline.InputConfig]]:
  """(the training input without the slice, the slice's input: read once, in order, at most
  `max_examples` (0: all) in batches of `eval_batch_size`); no slice when holdout_buckets is 0."""
  if not holdout_buckets:
    return train_input, None
  training = dataclasses.replace(train_input, holdout_buckets=holdout_buckets, holdout=False)
  held_out = dataclasses.replace(train_input, holdout_buckets=holdout_buckets, holdout=True,
                                 is_training=False, batch_size=eval_batch_size,
                                 max_examples=max_examples, in_memory=False)
  return training, held_out


def schedule(train_steps: int, evaluations: int) -> Tuple[int, int]:
  """(epochs, eval split every n-th epoch): `fit` runs train_steps in epochs of equal length,
  each ending with a validation check, and the eval split is read `evaluations` times (a
  divisor of train_steps: trainer/step_metrics.py), at the end of every n-th epoch."""
  if train_steps % evaluations:
    raise ValueError(f'{evaluations} evaluations do not divide {train_steps} steps')
  every = max(m for m in range(1, MAX_CHECKS // evaluations + 1)
              if train_steps % (evaluations * m) == 0
              and (m == 1 or train_steps // (evaluations * m) >= MIN_STEPS_PER_CHECK))
  return evaluations * every, every


class BestOnHoldout(tf.keras.callbacks.Callback):
  """Checks the data loss on the held-out slice at the start and at each epoch's end; stops
  after `patience` checks without improvement; ends with the best weights seen.

  `losses` holds every check's loss (the first: the starting weights'), `best` the index of the
  one kept. A slice with no example turns the callback off (training runs all its steps).
  """

  def __init__(self, data: tf.data.Dataset, patience: int):
    super().__init__()
    if patience < 1:
      raise ValueError(f'patience must be >= 1, got {patience!r}')
    self.data, self.patience = data, patience
    self.losses: List[float] = []
    self.best = 0
    self.examples = 0
    self._best_weights = None

  def data_loss(self) -> float:
    """The loss on the slice, without the weight penalty (Keras adds it to `loss`)."""
    loss = self.model.evaluate(self.data, verbose=0, return_dict=True)['loss']
    penalty = float(tf.add_n(self.model.losses)) if self.model.losses else 0.0
    return float(loss) - penalty

  def on_train_begin(self, logs=None):
    self.examples = int(self.data.reduce(
        tf.constant(0, tf.int64), lambda count, batch: count + tf.shape(
            batch[1], out_type=tf.int64)[0]))
    if not self.examples:
      logging.warning('the validation slice of the training split has no example: training '
                      'runs all its steps and keeps the last weights')
      return
    self.losses = [self.data_loss()]
    self.best, self._best_weights = 0, self.model.get_weights()

  def on_epoch_end(self, epoch, logs=None):
    if not self.examples:
      return
    loss = self.data_loss()
    self.losses.append(loss)
    if logs is not None:
      logs['holdout_loss'] = loss
    if loss < self.losses[self.best]:
      self.best, self._best_weights = len(self.losses) - 1, self.model.get_weights()
    elif len(self.losses) - 1 - self.best >= self.patience:
      self.model.stop_training = True

  def on_train_end(self, logs=None):
    if not self.examples:
      return
    self.model.set_weights(self._best_weights)
    logging.info(
        'validation slice (%d examples held out of the training split): loss %.4g at the start'
        ', best %.4g at check %d of %d%s; kept the weights of check %d', self.examples,
        self.losses[0], self.losses[self.best], self.best, len(self.losses) - 1,
        ' (stopped early)' if self.model.stop_training else '', self.best)
