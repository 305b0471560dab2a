"""Training loss and metrics every few steps, as TensorBoard scalars (`batch_<name>`), so the run
report draws curves per step; and how many evaluations to spread over a run.

Keras' TensorBoard callback in tf_keras 2.16 writes per-epoch scalars only (its `update_freq`
writes no batch summaries from `fit` here), and the Trainer runs one long epoch, which would
leave one point per curve.
"""

import tensorflow as tf

MAX_EVALUATIONS = 5  # Eval-split passes per run: eval points on the curves, each a full pass.
STEPS_PER_EVALUATION = 100  # At least this many steps between two of them (short runs: one).
POINTS_PER_RUN = 100  # Train points per run, about.


def evaluations(train_steps: int) -> int:
  """The largest divisor of train_steps up to MAX_EVALUATIONS and train_steps / 100: fit then
  runs that many epochs of equal length, each ending with an evaluation, and exactly
  train_steps steps in all."""
  most = max(1, min(MAX_EVALUATIONS, train_steps // STEPS_PER_EVALUATION))
  return max(count for count in range(1, most + 1) if train_steps % count == 0)


class StepMetrics(tf.keras.callbacks.Callback):
  """Writes the loss and metrics of the last `every` steps, every `every` steps, to `log_dir`.

  Keras' batch logs are the epoch's running means; the mean over just the last steps is taken
  back out of two of them ((mean_b * b - mean_a * a) / (b - a)), so the curve shows the model
  at that step, not the whole epoch so far (exact for the loss and for accuracies, which are
  means over examples of equal-sized batches)."""

  def __init__(self, log_dir: str, every: int):
    super().__init__()
    if every < 1:
      raise ValueError(f'every must be >= 1, got {every!r}')
    self.log_dir, self.every = log_dir, every
    self._writer = None
    self._previous = (0, {})  # (batches into the epoch, their running means)

  def on_train_begin(self, logs=None):
    self._writer = tf.summary.create_file_writer(self.log_dir)

  def on_epoch_begin(self, epoch, logs=None):
    self._previous = (0, {})

  def on_train_batch_end(self, batch, logs=None):
    step = int(self.model.optimizer.iterations.numpy())
    if step % self.every or not logs:
      return
    done, (before, means) = batch + 1, self._previous
    with self._writer.as_default():
      for name, value in logs.items():
        recent = (float(value) * done - means.get(name, 0.0) * before) / (done - before)
        tf.summary.scalar(f'batch_{name}', recent, step=step)
    self._previous = (done, {name: float(value) for name, value in logs.items()})

  def on_train_end(self, logs=None):
    if self._writer is not None:
      self._writer.close()
