"""The values a task kind (datadefs/tasks.py) works with: the training label's moments, the
model's head, the naive baseline, and the error a label that cannot teach raises."""

import dataclasses
from typing import Any, Callable, List


class LabelError(ValueError):
  """The training label cannot teach a model anything; the message says why."""


@dataclasses.dataclass(frozen=True)
class Moments:
  """Mean and standard deviation of the training label."""
  mean: float
  std: float


@dataclasses.dataclass(frozen=True)
class Head:
  """The model's last layer(s) over the hidden units, its loss and its Keras metrics."""
  output: Callable[[Any], Any]
  loss: Any  # A Keras loss name or object.
  metrics: Callable[[], List[Any]]


@dataclasses.dataclass(frozen=True)
class Baseline:
  """The naive baseline of a label: its score and how it was measured, and the blessing
  threshold set against it."""
  score: float
  text: str
  threshold: float
