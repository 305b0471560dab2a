"""The decision a binary model serves: class 1 when its probability reaches a threshold chosen on
the validation slice of the training split (trainer/validation.py), the one that is right most
often there.

A network trained on an imbalanced label with a weight penalty is often under-confident: few
minority rows reach 0.5, and its decisions at 0.5 are those of the majority class. The
Evaluator scores accuracy (and its confusion matrix) at 0.5 on what serving_default returns; so
the serving signature (trainer/signatures.py) serves the probability with its log-odds shifted
by the threshold's, `served_score`: at or above 0.5 exactly when the probability reaches the
threshold. That is the probability the model would give were class 1 weighted (1 - t) / t times
class 0: the same order of rows (the AUC is unchanged), and the Evaluator scores the served
decision. A threshold of 0.5 serves the probability itself. Trees (trainer/trees.py) keep 0.5:
they train on the whole training split, the slice included.
"""

import math
from typing import Sequence

from absl import logging
import numpy as np
import tensorflow as tf

from datadefs.definition import Dataset
from trainer import input_pipeline
from trainer import kinds
from trainer import validation
from trainer.config import TrainConfig

NEUTRAL = 0.5  # The threshold of a calibrated probability, and the served score's.
# A slice with fewer examples than this keeps NEUTRAL: too few to choose by.
MIN_EXAMPLES = 30
# A threshold moves off 0.5 only when the decisions it changes are right more often than wrong by
# more than this many standard deviations of chance (sqrt of the number changed).
SIGNIFICANCE = 2.0
# Thresholds are kept this far from 0 and 1 (their log-odds are finite).
_EDGE = 1e-4


def choose(labels: Sequence[float], probabilities: Sequence[float]) -> float:
  """The threshold at which `probabilities` (of class 1) decide `labels` (0/1) most accurately,
  among those whose gain over 0.5 is more than chance: of the decisions it changes, the right
  ones outnumber the wrong by over SIGNIFICANCE standard deviations of a fair coin (so a small
  slice does not move it by noise). Candidates lie halfway between neighbouring probabilities;
  of equally accurate ones, the nearest to 0.5 wins. NEUTRAL for fewer than MIN_EXAMPLES."""
  labels = np.asarray(labels, dtype=np.float64).reshape(-1) > 0
  probabilities = np.asarray(probabilities, dtype=np.float64).reshape(-1)
  if labels.shape != probabilities.shape:
    raise ValueError(f'{labels.size} labels for {probabilities.size} probabilities')
  if labels.size < MIN_EXAMPLES:
    return NEUTRAL
  distinct = np.unique(probabilities)
  candidates = np.concatenate([[NEUTRAL], (distinct[:-1] + distinct[1:]) / 2,
                               [distinct[0] - _EDGE, distinct[-1] + _EDGE]])
  candidates = np.clip(candidates, _EDGE, 1.0 - _EDGE)
  right = _right_decisions(labels, probabilities, candidates)
  # Decisions that differ from those at 0.5: the rows between the candidate and 0.5.
  below = np.searchsorted(np.sort(probabilities), candidates, side='left')
  changed = np.abs(below - np.searchsorted(np.sort(probabilities), NEUTRAL, side='left'))
  gain = right - right[0]
  significant = (gain > SIGNIFICANCE * np.sqrt(changed)) | (candidates == NEUTRAL)
  best = right[significant].max()
  ties = candidates[significant & (right == best)]
  return float(ties[np.argmin(np.abs(ties - NEUTRAL))])


def _right_decisions(labels: np.ndarray, probabilities: np.ndarray,
                     thresholds: np.ndarray) -> np.ndarray:
  """How many rows each threshold decides rightly: the 1s at or above it, the 0s below it."""
  order = np.argsort(probabilities, kind='stable')
  ones_sorted = np.cumsum(labels[order])
  below = np.searchsorted(probabilities[order], thresholds, side='left')  # rows under t
  ones_below = np.where(below > 0, ones_sorted[np.maximum(below - 1, 0)], 0)
  return (labels.sum() - ones_below) + (below - ones_below)


def served_score(probability: tf.Tensor, threshold: float) -> tf.Tensor:
  """The probability with its log-odds shifted by the threshold's: >= 0.5 exactly where the
  probability is >= `threshold`; the probability itself at NEUTRAL."""
  if threshold == NEUTRAL:
    return probability
  if not 0.0 < threshold < 1.0:
    raise ValueError(f'a decision threshold is in (0, 1), got {threshold!r}')
  clipped = tf.clip_by_value(probability, 1e-7, 1.0 - 1e-7)
  log_odds = tf.math.log(clipped) - tf.math.log1p(-clipped)
  return tf.sigmoid(log_odds - math.log(threshold / (1.0 - threshold)))


def on_holdout(model: tf.keras.Model, config: TrainConfig, dataset: Dataset,
               train_files: Sequence[str], decode: kinds.Decoder) -> float:
  """The threshold chosen on the validation slice the network was not trained on (the one
  training stopped on); NEUTRAL for a task that does not decide by one, or without a slice."""
  if not dataset.task_kind.decides_by_threshold or not config.holdout_buckets:
    return NEUTRAL
  train_input = input_pipeline.input_config(config, dataset, train_files,
                                            config.eval_batch_size, is_training=True)
  _, holdout_input = validation.holdout_inputs(
      train_input, config.eval_batch_size, config.max_eval_examples, config.holdout_buckets)
  labels, probabilities = _predict(model, input_pipeline.make_dataset(holdout_input, decode))
  threshold = choose(labels, probabilities)
  if labels.size:
    logging.info(
        'decision threshold %.4g, chosen on the validation slice (%d examples): accuracy %.4f '
        'there, %.4f at 0.5', threshold, labels.size,
        accuracy(labels, probabilities, threshold), accuracy(labels, probabilities, NEUTRAL))
  return threshold


def accuracy(labels: Sequence[float], probabilities: Sequence[float], threshold: float) -> float:
  labels = np.asarray(labels).reshape(-1) > 0
  decisions = np.asarray(probabilities).reshape(-1) >= threshold
  return float(np.mean(decisions == labels)) if labels.size else math.nan


def _predict(model: tf.keras.Model, data: tf.data.Dataset):
  """(labels, probabilities) of the slice, read in its fixed order, batch by batch as
  trainer/prediction_sample.py predicts."""
  labels, probabilities = [], []
  for features, label in data:
    labels.append(np.reshape(label.numpy(), -1))
    probabilities.append(np.reshape(model.predict_on_batch(features), -1))
  if not labels:
    return np.zeros([0]), np.zeros([0])
  return np.concatenate(labels), np.concatenate(probabilities)
