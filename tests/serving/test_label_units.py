"""A regression network served on raw rows answers in the label's units: the head predicts the
standardised label, and the model rescales it (datadefs/tasks.py Regression.head), so
serving_default and the server (serving/model.py) return values on the label's scale."""

import dataclasses

import numpy as np
import pytest

from tests import tables
from trainer.config import TrainConfig

pytestmark = pytest.mark.e2e  # TF Transform on Beam, then a training (~30 s or more).


def test_a_regression_served_on_raw_rows_predicts_in_the_labels_units(tmp_path):
  rng = np.random.default_rng(0)
  x, other = rng.uniform(-2, 2, 300), rng.normal(size=300)
  price = 1000 * x + 5000 + rng.normal(0, 50, 300)
  table = tables.make({'x': x, 'other': other, 'price': price}, 'price', tmp_path,
                      task_name='regression')
  table = dataclasses.replace(table, dataset=dataclasses.replace(table.dataset, model='mlp'))
  model = tables.train(table, TrainConfig(monitor_calibration_steps=0))
  served = tables.served(tables.save(table, model, tmp_path / 'model'), table, table.eval_rows)
  truth = np.array([float(row['price']) for row in table.eval_rows])
  # In dollars, not in standard deviations: predicting the mean would be ~1000 off on average;
  # a standardised prediction (around 0, spread 1) ~5000.
  error = np.mean(np.abs(served - truth))
  assert error < 0.2 * np.mean(np.abs(truth - truth.mean())), (error, served[:5], truth[:5])
  assert abs(np.mean(served) - np.mean(truth)) < 200
