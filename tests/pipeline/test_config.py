"""LocalConfig: environment read at the edge into typed, validated values."""

from pathlib import Path

import pytest

from pipeline import config as config_lib


def test_defaults_use_embedded_data_and_local_home(tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  config = config_lib.LocalConfig.from_env({})
  assert config.pipeline_home == tmp_path / 'pipeline_home'
  assert Path(config.data_root, 'data.csv').is_file()
  assert config.metadata_path == str(tmp_path / 'pipeline_home' / 'metadata.sqlite')
  assert config.last_run_path == tmp_path / 'pipeline_home' / 'last_run.json'


def test_environment_and_overrides(tmp_path):
  env = {'PIPELINE_HOME': str(tmp_path / 'h'), 'DATA_ROOT': str(tmp_path / 'd'),
         'TRAIN_STEPS': '123'}
  config = config_lib.LocalConfig.from_env(env)
  assert (config.pipeline_home, config.data_root, config.train_steps) == (
      tmp_path / 'h', str(tmp_path / 'd'), 123)
  assert config_lib.LocalConfig.from_env(env, train_steps=7).train_steps == 7


@pytest.mark.parametrize('env, message', [
    ({'TRAIN_STEPS': 'many'}, "TRAIN_STEPS must be a whole number, got 'many'"),
    ({'TRAIN_STEPS': '0'}, 'train_steps must be >= 1, got 0'),
])
def test_bad_values_are_named(env, message):
  with pytest.raises(ValueError, match=message):
    config_lib.LocalConfig.from_env(env)


def test_schema_in_repo_matches_feature_contract():
  import tensorflow_data_validation as tfdv
  from transform import features
  schema = tfdv.load_schema_text(config_lib.SCHEMA_PATH)
  assert {f.name for f in schema.feature} == set(features.RAW_COLUMN_TYPES)
