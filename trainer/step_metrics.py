"""Training loss and metrics every few steps, as TensorBoard scalars (`batch_<name>`), so the run
report draws curves per step; and how many evaluations to spread over a run.

Keras' TensorBoard callback in tf_keras 2.16 writes per-epoch scalars only (its `update_freq`
writes no batch summaries from `fit` here), and the Trainer runs one long epoch, which would
leave one point per curve.
"""

import tensorflow as tf

MAX_EVALUATIONS = 5  # Eval-split passes per run: eval points on the curves, each a full pass.
POINTS_PER_RUN = 100  # Train points per run, about.


def evaluations(train_steps: int) -> int:
  """The largest divisor of train_steps up to MAX_EVALUATIONS: fit then runs that many epochs
  of equal length, each ending with an evaluation, and exactly train_steps steps in all."""
  return max(count for count in range(1, MAX_EVALUATIONS + 1) if train_steps % count == 0)


class StepMetrics(tf.keras.callbacks.Callback):
  """Writes the running loss and metrics of the epoch every `every` steps to `log_dir`."""

  def __init__(self, log_dir: str, every: int):
    super().__init__()
    if every < 1:
      raise ValueError(f'every must be >= 1, got {every!r}')
    self.log_dir, self.every = log_dir, every
    self._writer = None

  def on_train_begin(self, logs=None):
    self._writer = tf.summary.create_file_writer(self.log_dir)

  def on_train_batch_end(self, batch, logs=None):
    step = int(self.model.optimizer.iterations.numpy())
    if step % self.every or not logs:
      return
    with self._writer.as_default():
      for name, value in logs.items():
        tf.summary.scalar(f'batch_{name}', float(value), step=step)

  def on_train_end(self, logs=None):
    if self._writer is not None:
      self._writer.close()
