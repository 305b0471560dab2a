"""pipeline/environment.py and pipeline/settings.py: the environment read once, at the edge,
into typed, validated settings, the dataset's defaults filled in once."""

from pathlib import Path

import pytest

from core.beam_args import LOCAL_BEAM_ARGS
from core.example_files import ExampleFilesConfig
from core.home import PipelineHome
from pipeline import environment
from pipeline import settings
from tests.conftest import run_cli


def _settings(env, **flags):
  return settings.run_settings(environment.read(env, **flags))


def test_defaults_use_the_datasets_own_data_and_a_local_home(tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)
  run = _settings({})
  assert run.dataset.name == 'taxi'
  assert Path(run.data.data_root, 'data.csv').is_file() and run.data.own_data
  home = PipelineHome.at(environment.read({}).pipeline_home)
  assert home.root == tmp_path / 'pipeline_home'
  assert home.metadata == tmp_path / 'pipeline_home' / 'metadata.sqlite'
  assert home.last_run == tmp_path / 'pipeline_home' / 'last_run.json'


def test_environment_and_flags(tmp_path):
  env = {'PIPELINE_HOME': str(tmp_path / 'h'), 'DATA_ROOT': str(tmp_path / 'd'),
         'TRAIN_STEPS': '123'}
  run = _settings(env)
  assert (run.data.data_root, run.training.train_steps) == (str(tmp_path / 'd'), 123)
  assert not run.data.own_data
  assert _settings(env, train_steps=7).training.train_steps == 7  # a flag wins
  assert environment.read(env).pipeline_home == str(tmp_path / 'h')


def test_an_empty_variable_counts_as_unset():
  assert _settings({'TRAIN_STEPS': '', 'DATASET': ' '}).training.train_steps == 500  # taxi's


def test_the_datasets_defaults_are_applied_once():
  penguins = _settings({'DATASET': 'penguins'})
  assert penguins.training.train_steps is None  # sized from the rows when training starts
  assert penguins.data.files_pattern == 'penguins.csv'  # its folder holds penguins-raw.csv too
  elsewhere = _settings({'DATASET': 'penguins', 'DATA_ROOT': '/data'})
  assert elsewhere.data.files_pattern is None  # the user's folder: every file


def test_example_file_layout_from_environment_and_flags():
  assert _settings({}).data.example_files == ExampleFilesConfig(8, 'gzip')
  env = {'NUM_SHARDS': '16', 'EXAMPLE_COMPRESSION': 'NONE'}
  assert _settings(env).data.example_files == ExampleFilesConfig(16, 'none')
  assert _settings(env, num_shards=3, example_compression='gzip').data.example_files == (
      ExampleFilesConfig(3, 'gzip'))


@pytest.mark.parametrize('env, message', [
    ({'TRAIN_STEPS': 'many'}, "TRAIN_STEPS must be a whole number, got 'many'"),
    ({'TRAIN_STEPS': '0'}, 'train_steps must be >= 1, got 0'),
    ({'TUNER_TRIALS': '-1'}, 'tuner_trials must be >= 0, got -1'),
    ({'NUM_SHARDS': 'eight'}, "NUM_SHARDS must be a whole number, got 'eight'"),
    ({'NUM_SHARDS': '0'}, 'NUM_SHARDS: num_shards must be a whole number >= 1, got 0'),
    ({'EXAMPLE_COMPRESSION': 'zstd'},
     "EXAMPLE_COMPRESSION: compression must be one of \\['gzip', 'none'\\], got 'zstd'"),
    ({'DATA_SOURCE': 'parquet'}, "DATA_SOURCE must be one of \\['csv', 'tfrecord', 'bigquery'\\] "
                                 "for a tabular dataset, got 'parquet'"),
    ({'DATASET': 'nope'}, "DATASET 'nope': no such bundled dataset"),
])
def test_bad_values_are_named(env, message):
  with pytest.raises(ValueError, match=message):
    _settings(env)


def test_every_variable_is_declared_once():
  assert len(environment.VARIABLES) == len(set(environment.VARIABLES))
  for name in ('DATASET', 'DATA_ROOT', 'PIPELINE_HOME', 'PROFILE', 'TRAIN_STEPS', 'NUM_SHARDS',
               'EXAMPLE_COMPRESSION', 'INPUT_PATTERN', 'DATA_SOURCE', 'CACHE'):
    assert name in environment.VARIABLES


@pytest.mark.parametrize('env, flags, enabled', [
    ({}, {}, True), ({'CACHE': '0'}, {}, False), ({'CACHE': '1'}, {}, True),
    ({'CACHE': 'true'}, {'cache': False}, False),  # --no-cache wins over CACHE
])
def test_cache_zero_or_no_cache_runs_every_step(env, flags, enabled):
  assert _settings(env, **flags).enable_cache is enabled


def test_a_bad_cache_value_is_named():
  with pytest.raises(ValueError, match="CACHE: .*got 'sometimes'"):
    _settings({'CACHE': 'sometimes'})


@pytest.mark.integration  # CLI subprocesses.
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
  args = list(LOCAL_BEAM_ARGS)
  assert dependency_utils.make_beam_dependency_flags(args) == args
