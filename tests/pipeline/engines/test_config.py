"""LocalConfig: environment read at the edge into typed, validated values."""

from pathlib import Path

import pytest

from core.example_files import ExampleFilesConfig
from pipeline.local import config as config_lib
from tests.conftest import run_cli


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


def test_example_file_layout_from_environment_and_overrides():
  assert config_lib.LocalConfig.from_env({}).example_files == ExampleFilesConfig(8, 'gzip')
  env = {'NUM_SHARDS': '16', 'EXAMPLE_COMPRESSION': 'NONE'}
  assert config_lib.LocalConfig.from_env(env).example_files == ExampleFilesConfig(16, 'none')
  assert config_lib.LocalConfig.from_env(env, num_shards=3, compression='gzip').example_files == (
      ExampleFilesConfig(3, 'gzip'))


@pytest.mark.parametrize('env, message', [
    ({'TRAIN_STEPS': 'many'}, "TRAIN_STEPS must be a whole number, got 'many'"),
    ({'TRAIN_STEPS': '0'}, 'train_steps must be >= 1, got 0'),
    ({'NUM_SHARDS': 'eight'}, "NUM_SHARDS must be a whole number, got 'eight'"),
    ({'NUM_SHARDS': '0'}, 'NUM_SHARDS: num_shards must be a whole number >= 1, got 0'),
    ({'EXAMPLE_COMPRESSION': 'zstd'},
     "EXAMPLE_COMPRESSION: compression must be one of \\['gzip', 'none'\\], got 'zstd'"),
])
def test_bad_values_are_named(env, message):
  with pytest.raises(ValueError, match=message):
    config_lib.LocalConfig.from_env(env)


@pytest.mark.parametrize('args, env, message', [
    (['run'], {'EXAMPLE_COMPRESSION': 'zstd'},
     "error: EXAMPLE_COMPRESSION: compression must be one of ['gzip', 'none'], got 'zstd'"),
    (['run', '--num-shards', '0'], {}, 'error: NUM_SHARDS: num_shards must be a whole number >= 1'),
    (['run', '--compression', 'zip'], {}, "argument --compression: invalid choice: 'zip'"),
])
def test_cli_refuses_a_bad_file_layout_before_running(tmp_path, args, env, message):
  result = run_cli(args, tmp_path / 'home', extra_env=env, timeout=120)
  assert result.returncode == 2
  assert message in result.stderr
  assert not (tmp_path / 'home').exists()  # Nothing was written.


def test_local_beam_args_spare_tfx_its_sdist_of_itself():
  # With no dependency flag TFX's Beam executors copy and sdist all of TFX per component.
  from tfx.utils import dependency_utils  # pylint: disable=import-outside-toplevel
  args = list(config_lib.LOCAL_BEAM_ARGS)
  assert dependency_utils.make_beam_dependency_flags(args) == args
