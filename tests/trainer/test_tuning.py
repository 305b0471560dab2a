"""trainer/tuning.py: hyperparameters applied to the model config; the objective per task."""

import pytest

import datasets
from trainer import tuning
from trainer.config import ModelConfig


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
  objective = tuning.objective(datasets.load(name))
  assert (objective.name, objective.direction) == (metric, direction)


def test_every_search_value_is_a_valid_model_config():
  for units in tuning.HIDDEN_UNITS:
    for rate in tuning.LEARNING_RATES:
      tuning.apply_hyperparameters(ModelConfig(), {'hidden_units': units, 'learning_rate': rate})


def test_the_pipeline_passes_the_trial_count_under_the_key_the_tuner_reads():
  from pipeline import graph  # pylint: disable=import-outside-toplevel
  assert graph.TUNER_TRIALS_KEY == tuning.TRIALS_KEY
