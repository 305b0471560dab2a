"""trainer/validation.py: the held-out slice of the training split, and heads that start from
the label's prior."""

import numpy as np
import pytest
import tensorflow as tf

from tests import taxi
from tests.trainer import synthetic
from trainer import input_pipeline
from trainer import model as model_lib
from trainer import validation
from trainer.config import ModelConfig
from datadefs import tasks


def _row_ids(config):
  spec = synthetic.feature_spec(with_row_id=True)
  return [int(row) for features, _ in input_pipeline.make_dataset(config, spec)
          for row in features[synthetic.ROW_ID].numpy()]


def test_the_slice_and_the_rest_split_the_training_rows_the_same_way_every_time(tmp_path):
  synthetic.write_shards(str(tmp_path), 2, 100)
  base = input_pipeline.InputConfig(file_patterns=(str(tmp_path / '*.gz'),), batch_size=10,
                                    is_training=False, label_key=taxi.LABEL_KEY)
  rest, held_out = validation.holdout_inputs(base, 10, 0, holdout_buckets=5)
  rest_ids, held_ids = _row_ids(rest), _row_ids(held_out)
  assert not set(rest_ids) & set(held_ids)
  assert sorted(rest_ids + held_ids) == list(range(200))
  assert 0 < len(held_ids) < 100
  assert _row_ids(held_out) == held_ids


@pytest.mark.parametrize('steps, evaluations', [(6, 1), (500, 5), (840, 5), (37, 1)])
def test_checks_divide_the_steps_and_the_eval_split_falls_on_checks(steps, evaluations):
  epochs, every = validation.schedule(steps, evaluations)
  assert steps % epochs == 0 and epochs % every == 0 and epochs // every == evaluations
  assert epochs <= validation.MAX_CHECKS


def test_a_binary_head_starts_at_the_share_of_ones():
  model = model_lib.build_keras_model(taxi.TAXI, ModelConfig(hidden_units=(8,)),
                                      tasks.Moments(mean=0.68, std=0.47))
  inputs = {name: tf.zeros([3], tf.float32 if spec.dtype == tf.float32 else tf.int64)
            for name, spec in synthetic.feature_spec().items() if name != taxi.LABEL_KEY}
  np.testing.assert_allclose(model(inputs, training=False).numpy(), 0.68, rtol=1e-5)
