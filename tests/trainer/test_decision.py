"""trainer/decision.py: the threshold a binary model decides at, chosen on the validation slice,
and the score serving_default serves for it."""

import numpy as np
import pytest
import tensorflow as tf

from trainer import decision


def _under_confident(count: int, seed: int = 0):
  """Labels with 30% of 1s, and probabilities that rank them well but rarely reach 0.5 (a
  network shrunk towards the prior by its weight penalty)."""
  rng = np.random.default_rng(seed)
  labels = (rng.random(count) < 0.3).astype(np.int64)
  probabilities = np.clip(0.2 + 0.25 * labels + rng.normal(0, 0.08, count), 0.01, 0.99)
  return labels, probabilities


def test_an_under_confident_model_decides_below_one_half_and_more_rightly():
  labels, probabilities = _under_confident(400)
  threshold = decision.choose(labels, probabilities)
  assert threshold < 0.45
  assert (decision.accuracy(labels, probabilities, threshold) >
          decision.accuracy(labels, probabilities, 0.5))
  # No other threshold is right more often.
  best = max(decision.accuracy(labels, probabilities, t) for t in np.linspace(0, 1, 1001))
  assert decision.accuracy(labels, probabilities, threshold) == pytest.approx(best)


def test_a_calibrated_separable_model_keeps_one_half():
  labels = np.array([0, 1] * 50)
  probabilities = np.where(labels == 1, 0.9, 0.1)
  assert decision.choose(labels, probabilities) == 0.5


def test_too_small_a_slice_keeps_one_half():
  labels, probabilities = _under_confident(decision.MIN_EXAMPLES - 1)
  assert decision.choose(labels, probabilities) == decision.NEUTRAL


def test_labels_and_probabilities_must_pair_up():
  with pytest.raises(ValueError, match='3 labels for 2 probabilities'):
    decision.choose([0, 1, 0], [0.2, 0.4])


@pytest.mark.parametrize('threshold', [0.05, 0.3, 0.5, 0.8])
def test_the_served_score_reaches_one_half_where_the_probability_reaches_the_threshold(threshold):
  probabilities = np.concatenate([np.linspace(0.001, 0.999, 997), [threshold]]).astype(np.float32)
  served = decision.served_score(tf.constant(probabilities), threshold).numpy()
  np.testing.assert_array_equal(served >= 0.5, probabilities >= threshold)
  # The same order of rows: a monotone map (the AUC does not change).
  assert np.all(np.diff(served[:-1]) >= 0)


def test_one_half_serves_the_probability_itself():
  probabilities = tf.constant([0.1, 0.5, 0.7])
  assert decision.served_score(probabilities, 0.5) is probabilities


def test_a_threshold_outside_zero_one_is_refused():
  with pytest.raises(ValueError, match='a decision threshold is in \\(0, 1\\), got 1.2'):
    decision.served_score(tf.constant([0.5]), 1.2)


@pytest.mark.parametrize('seed', range(10))
def test_probabilities_that_know_nothing_keep_one_half(seed):
  """On a slice of 40, some threshold is always luckier than 0.5; the gain is chance's."""
  rng = np.random.default_rng(seed)
  labels = (rng.random(40) < 0.35).astype(np.int64)
  probabilities = rng.uniform(0.2, 0.45, 40)
  assert decision.choose(labels, probabilities) == decision.NEUTRAL
