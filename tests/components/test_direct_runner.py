"""components/direct_runner.py: the DirectRunner's mode chosen from the input's size."""

import pytest
from tfx.types import standard_artifacts

from components import direct_runner

BIG = direct_runner.MULTI_PROCESSING_MIN_BYTES
LOCAL = ['--sdk_container_image=unused']


def test_small_inputs_run_in_process_on_one_worker():
  assert direct_runner.scaled_args(LOCAL, BIG - 1) == [
      *LOCAL, '--direct_running_mode=in_memory', '--direct_num_workers=1']


def test_large_inputs_run_on_every_core():
  assert direct_runner.scaled_args(LOCAL, BIG) == [
      *LOCAL, '--direct_running_mode=multi_processing', '--direct_num_workers=0']


@pytest.mark.parametrize('args', [
    ['--direct_running_mode=in_memory'],
    ['--direct_running_mode', 'multi_threading', '--direct_num_workers=4'],
    ['--runner=DataflowRunner', '--project=p'],
    ['--runner', 'apache_beam.runners.dataflow.dataflow_runner.DataflowRunner'],
])
def test_a_mode_or_another_runner_set_by_the_user_is_kept(args):
  assert direct_runner.scaled_args(args, BIG) == args


@pytest.mark.parametrize('runner', ['DirectRunner', 'direct', 'Direct',
                                    'apache_beam.runners.direct.direct_runner.DirectRunner'])
def test_the_direct_runner_named_explicitly_is_still_scaled(runner):
  assert '--direct_running_mode=multi_processing' in direct_runner.scaled_args(
      [f'--runner={runner}'], BIG)


def test_examples_bytes_sums_every_split(tmp_path):
  examples = standard_artifacts.Examples()
  examples.uri = str(tmp_path)
  for split, size in (('Split-train', 300), ('Split-eval', 120)):
    (tmp_path / split).mkdir()
    (tmp_path / split / 'data_tfrecord-00000-of-00001.gz').write_bytes(b'x' * size)
  assert direct_runner.examples_bytes([examples]) == 420


class _Executor(direct_runner.ScaledDirectRunnerMixin):
  def __init__(self, args):
    self._beam_pipeline_args = args


def test_the_mixin_sets_the_executors_args_from_its_input(tmp_path):
  examples = standard_artifacts.Examples()
  examples.uri = str(tmp_path)
  (tmp_path / 'big.gz').write_bytes(b'x' * BIG)
  executor = _Executor(list(LOCAL))
  executor.scale_to_input({'examples': [examples]}, 'examples')
  assert '--direct_running_mode=multi_processing' in executor._beam_pipeline_args  # pylint: disable=protected-access
