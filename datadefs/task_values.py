"""The values a task kind (datadefs/tasks.py) works with: the training label's moments, the
model's head, the naive baseline, and the error a label that cannot teach raises."""

import dataclasses
from typing import Any, Callable, List, Optional, Tuple


class LabelError(ValueError):
  """The training label cannot teach a model anything; the message says why."""


@dataclasses.dataclass(frozen=True)
class Moments:
  """Mean and standard deviation of the training label; for a multiclass label, the share of
  each class id too (0, 1, ...). A head starts from them: its first prediction is the naive
  baseline's (the label's prior), and training moves away from it only as far as it helps."""
  mean: float
  std: float
  shares: Tuple[float, ...] = ()


@dataclasses.dataclass(frozen=True)
class Head:
  """The model's last layer(s) over the hidden units, its loss and its Keras metrics."""
  output: Callable[[Any], Any]
  loss: Any  # A Keras loss name or object.
  metrics: Callable[[], List[Any]]
  # The loss is multiplied by this (Keras' loss_weights): a regression's loss in label units,
  # divided by the label's variance, is the loss on the standardised label.
  loss_weight: float = 1.0


@dataclasses.dataclass(frozen=True)
class Baseline:
  """The naive baseline of a label: its score and how it was measured, and the blessing
  threshold set against it."""
  score: float
  text: str
  threshold: float


@dataclasses.dataclass(frozen=True)
class BaselineScores:
  """A definition's `[baseline]` table (datadefs/baseline_scores.py): the task's blessing metric
  on the eval part of a sample split by the pipeline's rule, of the naive baseline (the train
  part's majority class or mean) and of a default gradient-boosted model (scikit-learn; None
  when it could not be fit), how many labelled rows that sample had, and how it was measured."""
  metric: str
  naive: float
  gbm: Optional[float]
  rows: int
  eval_rows: int
  how: str
