"""trainer/config.py: TrainConfig validation and its custom_config round trip."""

import pytest

from trainer.config import ModelConfig, TrainConfig


def test_custom_config_round_trip():
  config = TrainConfig(batch_size=64, strategy='mirrored', on_missing_accelerator='fallback',
                       cycle_length=2, profile_steps=3, model=ModelConfig(hidden_units=(4, 2)))
  assert TrainConfig.from_custom_config(config.to_custom_config()) == config
  assert TrainConfig.from_custom_config({}) == TrainConfig()


def test_unknown_keys_are_named():
  with pytest.raises(ValueError, match="unknown train_config keys \\['batchsize'\\]"):
    TrainConfig.from_custom_config({'train_config': {'batchsize': 3}})


@pytest.mark.parametrize('overrides, message', [
    (dict(batch_size=0), 'batch_size must be >= 1, got 0'),
    (dict(cycle_length=0), 'cycle_length must be >= 1, got 0'),
    (dict(strategy='gpu'), "strategy must be one of .*, got 'gpu'"),
    (dict(on_missing_accelerator='ignore'), "on_missing_accelerator must be .*, got 'ignore'"),
    (dict(input_bound_threshold=0.0), 'input_bound_threshold must be in \\(0, 1\\], got 0.0'),
    (dict(monitor_calibration_steps=-1), 'monitor_calibration_steps must be >= 0, got -1'),
    (dict(profile_steps=-2), 'profile_steps must be >= 0, got -2'),
    (dict(cache_budget_bytes=-1), 'cache_budget_bytes must be >= 0, got -1'),
    (dict(max_eval_examples=-1), 'max_eval_examples must be >= 0, got -1'),
])
def test_bad_train_config_is_rejected(overrides, message):
  with pytest.raises(ValueError, match=message):
    TrainConfig(**overrides)
