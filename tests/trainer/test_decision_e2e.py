"""On a generated imbalanced table: the decision threshold chosen on the validation slice moves
off 0.5 for a network that ranks the rows well but is under-confident, and the server's answers
(serving/model.py over serving_default) are >= 0.5 exactly for the rows whose probability
reaches it; so the Evaluator's accuracy at 0.5 scores the served decision."""

import dataclasses

import numpy as np
import pytest

from tests import tables
from trainer import decision
from trainer.config import ModelConfig, TrainConfig

pytestmark = pytest.mark.e2e  # TF Transform on Beam, then a training (~40 s or more).


def test_the_threshold_moves_and_the_served_classes_use_it(tmp_path):
  rng = np.random.default_rng(0)
  rows = 900
  signal, noise = rng.normal(size=rows), rng.normal(size=rows)
  # About one row in four is a 1.
  answer = (rng.random(rows) < 1 / (1 + np.exp(-(3 * signal - 2.2)))).astype(int)
  table = tables.make({'signal': signal, 'noise': noise, 'answer': answer}, 'answer', tmp_path)
  table = dataclasses.replace(table, dataset=dataclasses.replace(table.dataset, model='mlp'))
  # A strong weight penalty shrinks the probabilities towards the prior (one in four): few 1s
  # reach 0.5, though the order of the rows is right.
  config = TrainConfig(monitor_calibration_steps=0, model=ModelConfig(l2=0.3))
  model = tables.train(table, config)
  threshold = decision.on_holdout(model, config, table.dataset, table.train_files,
                                  table.output.transformed_feature_spec())
  assert threshold < 0.45

  probabilities = tables.served(tables.save(table, model, tmp_path / 'at_half'), table,
                                table.eval_rows)
  served = tables.served(tables.save(table, model, tmp_path / 'served', threshold), table,
                         table.eval_rows)
  np.testing.assert_array_equal(served >= 0.5, probabilities >= threshold)
  labels = np.array([int(row['answer']) for row in table.eval_rows])
  # The served decision is right more often than the probability's at 0.5 on the eval split,
  # which the threshold was not chosen on.
  assert np.mean((served >= 0.5) == labels) > np.mean((probabilities >= 0.5) == labels)
