"""Task kinds: one object per kind of prediction, owning everything that differs between them.

A Task says what its label is made of (the label rule, as TF ops in the Transform graph), how the
model predicts it (the head: last layer and loss), how predictions are scored (the Keras metric
the Tuner ranks by, the TFMA metrics the Evaluator computes, the one the blessing threshold
bounds and in which direction), when a label cannot teach anything (the label gate), and the
naive baseline and default gradient-boosted model `dataset init` measures (datadefs/tabular/
baseline.py). No code outside this module branches on the task name: it asks
`TASKS[dataset.task]`.

TensorFlow is imported only by the methods that build TF ops or Keras layers, so reading a
definition needs none.
"""

import collections
import dataclasses
import math
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

# The values tasks work with; importers use them from here (datadefs.tasks.Moments, ...).
from datadefs.task_values import Baseline, BaselineScores, Head, LabelError, Moments

__all__ = ['Baseline', 'BaselineScores', 'Head', 'LabelError', 'Moments', 'TASKS', 'TASK_NAMES', 'Task',
           'infer', 'key_metric', 'task']

# A class share below this counts as this when a head starts from the shares (log of 0).
_SMALLEST_SHARE = 1e-4
FEW_CLASSES = 20  # A whole-number label with at most this many values is a class...
MAX_CLASSES = 100  # ...and a multiclass label has at most this many.


@dataclasses.dataclass(frozen=True)
class Task:
  """What every task kind says; the subclasses below fill it in."""
  name: str
  # The Keras metric the head reports: the Tuner ranks trials by its validation value.
  keras_metric: str
  # The TFMA metric (class name) the blessing threshold bounds, and its name in TFMA's output.
  blessing_metric_class: str
  blessing_metric: str
  higher_is_better: bool
  # Other TFMA metrics and plots the Evaluator computes over the whole eval split, printed and
  # in the report: (class name, its config as JSON, '' for the defaults).
  other_metrics: Tuple[Tuple[str, str], ...] = ()
  # Whether the Trainer writes a bounded sample of the eval split's (label, prediction) pairs
  # (trainer/prediction_sample.py): a regression's for the report's predicted-vs-actual and
  # residual plots, an image classifier's for its grid of eval images (a table's classifier
  # writes none).
  samples_predictions: bool = False
  # What the threshold is, in words ('an accuracy', 'a mean absolute error').
  threshold_meaning: str = ''
  # Whether the head is built around the training label's moments (read from the data before
  # training): every head starts from the label's prior.
  uses_label_moments: bool = True
  # Whether the served decision is a probability against a threshold chosen on the validation
  # slice (trainer/decision.py); the Evaluator scores the decision serving_default serves.
  decides_by_threshold: bool = False
  # The TensorFlow Decision Forests task (tfdf.keras.Task) trees learn it as
  # (model = "gradient_boosted_trees", trainer/trees.py).
  forest_task: str = 'CLASSIFICATION'

  def num_outputs(self, classes: Sequence[Any]) -> int:  # pylint: disable=unused-argument
    return 1

  def derived_metrics(self, metrics: Mapping[str, float]) -> Dict[str, float]:
    """Metrics computed exactly from the Evaluator's (e.g. RMSE from the mean squared error)."""
    return {}

  def class_names(self, classes: Sequence[Any]) -> Tuple[str, ...]:
    """The names of the label's class ids 0, 1, ... in the order of a confusion matrix."""
    return ()

  def check_threshold(self, value: float) -> Optional[str]:
    """Why `value` cannot be this task's blessing threshold, or None."""
    raise NotImplementedError

  def check_classes(self, classes: Sequence[Any]) -> Optional[str]:
    """Why the definition's `classes` cannot be this task's, or None."""
    if classes:
      return f'only a multiclass label has classes (task is {self.name!r})'
    return None

  def check_label_column(self, column: str, label_type: str,
                         has_expression: bool) -> Optional[str]:
    """Why a label read from a `label_type` column (or an expression over columns) cannot be
    this task's, or None."""
    return None

  def label(self, value, classes: Sequence[Any]):
    """The transformed label from the raw (or expression) value, as TF ops."""
    raise NotImplementedError

  def head(self, num_classes: int, moments: Optional[Moments] = None) -> Head:
    raise NotImplementedError

  def check_label_statistics(self, label_stats, examples: int, name: str,
                             min_minority_fraction: float) -> None:
    """Raises LabelError when the training label (its post-transform num_stats over `examples`
    examples) cannot teach a model; `name` says which label, for the message."""
    if label_stats.std_dev <= 0:
      raise LabelError(
          f'label {name} is {label_stats.mean:g} in all {examples} training examples; a model '
          'cannot learn from it. Check the label column of the input data.')

  def baseline(self, values: Sequence[str]) -> Baseline:
    """The naive baseline of a sample of the label's present values (their CSV texts)."""
    raise NotImplementedError

  def check_score(self, value: float) -> Optional[str]:
    """Why `value` cannot be a score of this task's blessing metric, or None."""
    return self.check_threshold(value)

  def naive_predictions(self, train_labels, count: int):
    """The naive baseline's predictions for `count` rows, learnt from the train part's labels
    (numpy arrays of the transformed label: class ids, or numbers)."""
    raise NotImplementedError

  def score(self, labels, predictions) -> float:
    """The blessing metric of `predictions` against `labels` (numpy arrays)."""
    raise NotImplementedError

  def default_gbm(self, categorical_features, seed: int):
    """scikit-learn's gradient-boosted model for this task, with its defaults."""
    raise NotImplementedError

  def classes_of(self, values: Sequence[str], label_type: str) -> Tuple[Any, ...]:
    """The classes a sample of the label's values (CSV texts of a `label_type` column) holds,
    in id order; () for a task without classes."""
    return ()

  @property
  def objective_direction(self) -> str:
    return 'max' if self.higher_is_better else 'min'


class _Accuracy(Task):
  """Classification: the blessing bounds accuracy from below."""

  def check_threshold(self, value: float) -> Optional[str]:
    return None if 0.0 <= value <= 1.0 else f'an accuracy is in [0, 1], got {value}'

  def _majority_baseline(self, values: Sequence[Any]) -> Baseline:
    majority, count = collections.Counter(values).most_common(1)[0]
    accuracy = count / len(values)
    # A tenth of the way from the majority class to perfect, at least 2 points.
    threshold = min(0.99, accuracy + max(0.02, 0.1 * (1.0 - accuracy)))
    return Baseline(accuracy, f'always predicting the majority class {majority!r} is '
                    f'{accuracy:.1%} accurate', round(threshold, 4))

  def naive_predictions(self, train_labels, count):
    import numpy as np  # pylint: disable=import-outside-toplevel
    values, counts = np.unique(train_labels, return_counts=True)
    return np.full(count, values[np.argmax(counts)])

  def score(self, labels, predictions):
    return float((labels == predictions).mean())

  def default_gbm(self, categorical_features, seed):
    from sklearn import ensemble  # pylint: disable=import-outside-toplevel
    return ensemble.HistGradientBoostingClassifier(categorical_features=categorical_features,
                                                   random_state=seed)


class Binary(_Accuracy):
  """A 0/1 label: a column of 0/1 numbers (any number > 0 is 1), or an expression."""

  def __init__(self):
    super().__init__(name='binary', keras_metric='binary_accuracy',
                     blessing_metric_class='BinaryAccuracy', blessing_metric='binary_accuracy',
                     higher_is_better=True,
                     # The ROC curve comes from the confusion matrices at 1,000 thresholds;
                     # the confusion matrix at the 0.5 binary_accuracy decides at.
                     other_metrics=(('AUC', ''), ('ConfusionMatrixPlot', ''),
                                    ('ConfusionMatrixAtThresholds', '{"thresholds": [0.5]}')),
                     threshold_meaning='an accuracy',
                     # The served score is >= 0.5 where the probability reaches the threshold.
                     decides_by_threshold=True)

  def class_names(self, classes):
    return ('0', '1')

  def check_label_column(self, column, label_type, has_expression):
    if not has_expression and label_type == 'string':
      return (f'a binary label is 0/1 numbers, or an expression such as "{column} == 1"; this '
              'column is a string')
    return None

  def label(self, value, classes):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    return tf.cast(tf.cast(value, tf.bool) if value.dtype == tf.bool else value > 0, tf.int64)

  def head(self, num_classes, moments=None):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    # Starts at the share of 1s (the prior): the kernel at 0, the bias at its log-odds.
    share = min(max(moments.mean if moments else 0.5, _SMALLEST_SHARE), 1.0 - _SMALLEST_SHARE)
    return Head(output=tf.keras.layers.Dense(
        1, activation='sigmoid', name='probability', kernel_initializer='zeros',
        bias_initializer=tf.keras.initializers.Constant(math.log(share / (1.0 - share)))),
                loss='binary_crossentropy',
                metrics=lambda: [tf.keras.metrics.BinaryAccuracy()])

  def check_label_statistics(self, label_stats, examples, name, min_minority_fraction):
    # The mean of a 0/1 label is the share of 1s.
    fraction = min(label_stats.mean, 1.0 - label_stats.mean)
    if fraction < min_minority_fraction:
      raise LabelError(
          f'label {name} is almost one value: its rarer class is {fraction:.2%} of '
          f'{examples} training examples (minimum {min_minority_fraction:.2%}); a model cannot '
          'learn from it. Check the label column of the input data.')

  def baseline(self, values):
    return self._majority_baseline(['1' if float(value) > 0 else '0' for value in values])


class Multiclass(_Accuracy):
  """One of the definition's `classes` (strings or whole numbers), by its index."""

  def __init__(self):
    super().__init__(name='multiclass', keras_metric='sparse_categorical_accuracy',
                     blessing_metric_class='SparseCategoricalAccuracy',
                     blessing_metric='sparse_categorical_accuracy', higher_is_better=True,
                     # Counts of every (actual, top predicted) class pair.
                     other_metrics=(('MultiClassConfusionMatrixPlot', ''),),
                     samples_predictions=True,
                     threshold_meaning='an accuracy')

  def num_outputs(self, classes):
    return len(classes)

  def class_names(self, classes):
    return tuple(str(name) for name in classes)

  def check_classes(self, classes):
    if len(classes) < 2:
      return ('a multiclass label lists its classes (at least two), e.g. classes = '
              '["Adelie", "Chinstrap", "Gentoo"]')
    return None

  def label(self, value, classes):
    # The index of the value in `classes`; -1 for a value not listed (the schema's label domain
    # refuses such data before Transform).
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    if value.dtype != tf.string:
      value = tf.strings.as_string(tf.cast(value, tf.int64))
    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            tf.constant([str(name) for name in classes]),
            tf.range(len(classes), dtype=tf.int64)),
        default_value=-1)
    return table.lookup(value)

  def head(self, num_classes, moments=None):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    if num_classes < 2:
      raise ValueError(f'a multiclass head needs at least 2 classes, got {num_classes}')
    # Starts at each class's share (the prior): the kernel at 0, the biases at their logs.
    shares = (moments.shares if moments and len(moments.shares) == num_classes
              else (1.0 / num_classes,) * num_classes)
    biases = [math.log(max(share, _SMALLEST_SHARE)) for share in shares]
    return Head(
        output=tf.keras.layers.Dense(
            num_classes, activation='softmax', name='probabilities',
            kernel_initializer='zeros', bias_initializer=tf.keras.initializers.Constant(biases)),
        loss='sparse_categorical_crossentropy',
        metrics=lambda: [tf.keras.metrics.SparseCategoricalAccuracy()])

  def baseline(self, values):
    return self._majority_baseline(list(values))

  def classes_of(self, values, label_type):
    distinct = sorted(set(values), key=int if label_type == 'int' else str)
    if len(distinct) > MAX_CLASSES:
      raise ValueError(f'the label has {len(distinct)} distinct values: too many classes for a '
                       'multiclass head; use --task regression, or a coarser label')
    return tuple(int(value) for value in distinct) if label_type == 'int' else tuple(distinct)


class Regression(Task):
  """A number. The head is scaled to the label's spread around its mean, so training starts near
  the answer (Adam moves a bias by about the learning rate per step: a fare of $12 would take
  thousands of steps to reach from 0)."""

  def __init__(self):
    super().__init__(name='regression', keras_metric='mean_absolute_error',
                     blessing_metric_class='MeanAbsoluteError',
                     blessing_metric='mean_absolute_error', higher_is_better=False,
                     other_metrics=(('MeanSquaredError', ''),), samples_predictions=True,
                     threshold_meaning='a mean absolute error', forest_task='REGRESSION')

  def derived_metrics(self, metrics):
    if 'mean_squared_error' not in metrics:
      return {}
    return {'root_mean_squared_error': math.sqrt(metrics['mean_squared_error'])}

  def check_threshold(self, value):
    return None if value > 0 else f'a mean absolute error is > 0, got {value}'

  def check_score(self, value):
    return None if value >= 0 else f'a mean absolute error is >= 0, got {value}'

  def naive_predictions(self, train_labels, count):
    import numpy as np  # pylint: disable=import-outside-toplevel
    return np.full(count, float(np.mean(train_labels)))

  def score(self, labels, predictions):
    import numpy as np  # pylint: disable=import-outside-toplevel
    return float(np.mean(np.abs(labels - predictions)))

  def default_gbm(self, categorical_features, seed):
    from sklearn import ensemble  # pylint: disable=import-outside-toplevel
    return ensemble.HistGradientBoostingRegressor(categorical_features=categorical_features,
                                                  random_state=seed)

  def label(self, value, classes):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    return tf.cast(value, tf.float32)

  def head(self, num_classes, moments=None):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    moments = moments or Moments(0.0, 1.0)
    # A zero spread (a constant label) would scale every prediction to the mean.
    scale = moments.std if moments.std > 0 else 1.0

    def output(hidden):
      # Starts at the mean: the kernel at 0.
      standardized = tf.keras.layers.Dense(1, name='standardized_prediction',
                                           kernel_initializer='zeros')(hidden)
      return tf.keras.layers.Rescaling(scale, offset=moments.mean, name='prediction')(
          standardized)

    return Head(
        output=output,
        # Huber: squared error near the answer, absolute far off, so a few extreme values do
        # not dominate; delta of one spread.
        loss=tf.keras.losses.Huber(delta=scale),
        metrics=lambda: [tf.keras.metrics.MeanAbsoluteError()],
        # Huber with delta s of an error s*e is s^2 times Huber with delta 1 of e: so divided,
        # the loss is the standardised label's, whatever the label's units (the L2 penalty
        # and the learning rate mean the same on every table).
        loss_weight=1.0 / scale**2)

  def baseline(self, values):
    numbers = [float(value) for value in values]
    mean = sum(numbers) / len(numbers)
    mae = sum(abs(number - mean) for number in numbers) / len(numbers)
    # 10% under the error of always predicting the mean.
    return Baseline(mae, f'predicting the mean ({mean:.4g}) has mean absolute error {mae:.4g}',
                    0.9 * mae)


# The task kinds, by the name a dataset definition's `task` takes.
TASKS: Dict[str, Task] = {task.name: task for task in (Binary(), Multiclass(), Regression())}
TASK_NAMES = tuple(TASKS)


def infer(label_type: str, values: Sequence[str]) -> Task:
  """The task a label's values suggest: 0/1 whole numbers are binary; text, or few whole
  numbers, multiclass; other numbers regression."""
  distinct = set(values)
  if label_type == 'int' and distinct <= {'0', '1'}:
    return TASKS['binary']
  if label_type == 'string' or (label_type == 'int' and len(distinct) <= FEW_CLASSES):
    return TASKS['multiclass']
  return TASKS['regression']


def key_metric(metrics: Mapping[str, float],
               task_name: Optional[str] = None) -> Optional[Tuple[str, float]]:
  """(name, value) of the metric a run of `task_name` is judged by (its blessing metric) in a
  run's `metrics`; for a run whose task was not recorded, the first task's blessing metric
  found there. None when none is."""
  candidates = [TASKS[task_name]] if task_name in TASKS else list(TASKS.values())
  for kind in candidates:
    if kind.blessing_metric in metrics:
      return kind.blessing_metric, float(metrics[kind.blessing_metric])
  return None


def task(name: str) -> Task:
  """The task kind `name`; ValueError naming the known ones otherwise."""
  if name not in TASKS:
    raise ValueError(f'task must be one of {list(TASKS)}, got {name!r}')
  return TASKS[name]
