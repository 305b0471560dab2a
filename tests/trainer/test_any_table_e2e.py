"""Issue 20's binary table in small: a few hundred rows, integer-coded answers (most of them
noise), about two rows in three of the majority class. The old defaults (a fixed 128-64-32
network, no penalty, 30 passes, nothing held out, no early stop) overfit and land below always
predicting the majority; the new ones (sized from the rows, stopped on the validation slice,
the decision threshold chosen there) do not. Both scored as served, on the same eval split."""

import dataclasses
import math

import numpy as np
import pytest

from tests import tables
from trainer import decision
from trainer import sizing
from trainer.config import ModelConfig, TrainConfig

pytestmark = pytest.mark.e2e  # TF Transform on Beam, then two trainings (~1 min or more).

ROWS = 600
ANSWERS = 30  # integer-coded columns (1-5), one of them informative


def _table(folder):
  rng = np.random.default_rng(1)
  numbers, answers = rng.normal(size=(ROWS, 4)), rng.integers(1, 6, size=(ROWS, ANSWERS))
  log_odds = numbers[:, 0] + 0.5 * (answers[:, 1] - 3) - 1.0
  columns = {f'x{index}': numbers[:, index] for index in range(numbers.shape[1])}
  columns.update({f'q{index}': answers[:, index] for index in range(ANSWERS)})
  columns['answer'] = (rng.random(ROWS) < 1 / (1 + np.exp(-log_odds))).astype(int)
  table = tables.make(columns, 'answer', folder)
  return dataclasses.replace(table, dataset=dataclasses.replace(table.dataset, model='mlp'))


def _served_accuracy(table, model, folder, threshold=decision.NEUTRAL):
  served = tables.served(tables.save(table, model, folder, threshold), table, table.eval_rows)
  labels = np.array([int(row['answer']) for row in table.eval_rows])
  return float(np.mean((served >= 0.5) == labels))


def test_old_defaults_fall_below_the_naive_baseline_and_the_new_ones_do_not(tmp_path):
  table = _table(tmp_path)
  naive = tables.accuracy_of_majority(table)
  assert 0.6 < naive < 0.75

  old_config = TrainConfig(batch_size=128, holdout_buckets=0, monitor_calibration_steps=0,
                           model=ModelConfig(hidden_units=(128, 64, 32), l2=0.0))
  rows = sizing.count_records(table.train_files)
  old_model = tables.train(table, old_config, train_steps=math.ceil(30 * rows / 128))
  old = _served_accuracy(table, old_model, tmp_path / 'old')

  new_config = TrainConfig(monitor_calibration_steps=0)
  new_model = tables.train(table, new_config)
  threshold = decision.on_holdout(new_model, new_config, table.dataset, table.train_files,
                                  table.output.transformed_feature_spec())
  new = _served_accuracy(table, new_model, tmp_path / 'new', threshold)
  assert old < naive <= new, (old, naive, new)
