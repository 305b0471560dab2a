"""trainer/tuning.py: hyperparameters applied to the model config; the objective per task;
how much of the eval split a trial reads."""

from google.protobuf import text_format
import pytest
from tensorflow_transform.tf_metadata import schema_utils
from tfx.components.trainer.fn_args_utils import FnArgs

import datadefs
from tests import taxi
from tests.trainer import synthetic
from core.names import TUNER_TRIALS_KEY
from trainer import tuning
from trainer.config import ModelConfig, TrainConfig


def test_tuned_values_replace_the_configs():
  tuned = tuning.apply_hyperparameters(ModelConfig(dropout=0.2),
                                       {'learning_rate': 0.01, 'hidden_units': '64,32'})
  assert tuned == ModelConfig(hidden_units=(64, 32), learning_rate=0.01, dropout=0.2)
  assert tuning.apply_hyperparameters(ModelConfig(), {}) == ModelConfig()


@pytest.mark.parametrize('name, metric, direction', [
    ('taxi', 'val_binary_accuracy', 'max'),
    ('penguins', 'val_sparse_categorical_accuracy', 'max'),
    ('taxi_fare', 'val_mean_absolute_error', 'min'),
])
def test_trials_are_ranked_by_the_blessing_metric(name, metric, direction):
  objective = tuning.objective(datadefs.load(name))
  assert (objective.name, objective.direction) == (metric, direction)


def test_every_search_value_is_a_valid_model_config():
  for units in tuning.HIDDEN_UNITS:
    for rate in tuning.LEARNING_RATES:
      tuning.apply_hyperparameters(ModelConfig(), {'hidden_units': units, 'learning_rate': rate})


def _corrupt_after(path: str, good_records: int) -> None:
  """Cuts `path` (uncompressed TFRecords) after its first good_records and appends garbage."""
  data = open(path, 'rb').read()
  offset = 0
  for _ in range(good_records):
    length = int.from_bytes(data[offset:offset + 8], 'little')
    offset += 8 + 4 + length + 4
  with open(path, 'wb') as f:
    f.write(data[:offset] + b'\xff' * 64)


@pytest.mark.parametrize('max_eval_examples, status', [(16, 'COMPLETED'), (0, 'FAILED')])
def test_trials_validate_on_at_most_max_eval_examples(tmp_path, max_eval_examples, status):
  synthetic.write_shards(str(tmp_path / 'train'), 2, 32)
  [eval_file] = synthetic.write_shards(str(tmp_path / 'eval'), 1, 40, compression='none')
  # Past the 16th example the eval split is garbage: only a trial that reads at most 16 of it
  # completes.
  _corrupt_after(eval_file, 16)
  graph_dir = tmp_path / 'transform_graph' / 'transformed_metadata'
  graph_dir.mkdir(parents=True)
  (graph_dir / 'schema.pbtxt').write_text(text_format.MessageToString(
      schema_utils.schema_from_feature_spec(synthetic.feature_spec())))
  config = TrainConfig(batch_size=8, eval_batch_size=8, monitor_calibration_steps=0,
                       max_eval_examples=max_eval_examples, model=ModelConfig(hidden_units=(8,)))
  fn_args = FnArgs(
      train_files=[str(tmp_path / 'train' / '*.gz')], eval_files=[eval_file],
      transform_graph_path=str(tmp_path / 'transform_graph'), working_dir=str(tmp_path / 'tuner'),
      train_steps=2, eval_steps=None,
      custom_config={**config.to_custom_config(), **taxi.TAXI.to_custom_config(),
                     TUNER_TRIALS_KEY: 1})
  result = tuning.tuner_fn(fn_args)
  result.tuner.search(**result.fit_kwargs)
  assert [trial.status for trial in result.tuner.oracle.trials.values()] == [status]


def test_trees_search_the_trees_settings_and_every_choice_is_a_valid_config():
  import keras_tuner  # pylint: disable=import-outside-toplevel
  hp = keras_tuner.HyperParameters()
  tuning.search_space(hp, 'gradient_boosted_trees')
  assert set(hp.values) == {'num_trees', 'max_depth', 'shrinkage', 'min_examples'}
  network = keras_tuner.HyperParameters()
  tuning.search_space(network, 'mlp')
  assert set(network.values) == {'learning_rate', 'hidden_units'}
  for trees in tuning.NUM_TREES:
    for depth in tuning.MAX_DEPTHS:
      for shrinkage in tuning.SHRINKAGES:
        for examples in tuning.MIN_EXAMPLES:
          tuned = tuning.apply_hyperparameters(ModelConfig(), {
              'num_trees': trees, 'max_depth': depth, 'shrinkage': shrinkage,
              'min_examples': examples})
          assert (tuned.num_trees, tuned.max_depth, tuned.shrinkage, tuned.min_examples) == (
              trees, depth, shrinkage, examples)


@pytest.mark.integration  # TF Transform on Beam, then trees grown in each trial.
def test_a_search_over_trees_grows_trees_with_each_trials_settings(tmp_path):
  from tests import trees as tree_helpers  # pylint: disable=import-outside-toplevel
  output = tree_helpers.transform(
      tree_helpers.labelled_examples(tree_helpers.penguin_rows()), tmp_path)
  del output
  fn_args = FnArgs(
      train_files=[str(tmp_path / 'train' / '*.gz')], eval_files=[str(tmp_path / 'eval' / '*.gz')],
      transform_graph_path=str(tmp_path / 'transform'), working_dir=str(tmp_path / 'tuner'),
      train_steps=None, eval_steps=None,
      custom_config={**TrainConfig(monitor_calibration_steps=0).to_custom_config(),
                     **tree_helpers.PENGUINS.to_custom_config(), TUNER_TRIALS_KEY: 2})
  result = tuning.tuner_fn(fn_args)
  result.tuner.search(**result.fit_kwargs)
  trials = list(result.tuner.oracle.trials.values())
  assert [trial.status for trial in trials] == ['COMPLETED'] * 2
  for trial in trials:
    assert set(trial.hyperparameters.values) == {'num_trees', 'max_depth', 'shrinkage',
                                                 'min_examples'}
    # Better than always predicting the majority class (44% of the penguins).
    assert trial.score > 0.6
