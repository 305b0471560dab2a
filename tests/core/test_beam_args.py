"""core/beam_args.py: flags read in either spelling; the runner named as Beam resolves it."""

import pytest

from core import beam_args


def test_flag_value_takes_the_last_of_either_spelling():
  assert beam_args.flag_value(['--runner=A', '--runner', 'B'], 'runner') == 'B'
  assert beam_args.flag_value(['--runner_v2'], 'runner') is None
  assert beam_args.flag_value(['--runner'], 'runner') is None  # no value follows


@pytest.mark.parametrize('args', [
    ['--runner=DataflowRunner'], ['--runner', 'DataflowRunner'], ['--runner=dataflow'],
    ['--runner', 'Dataflow'],
    ['--runner=apache_beam.runners.dataflow.dataflow_runner.DataflowRunner'],
    ['--runner=DirectRunner', '--project=p', '--runner=DataflowRunner'],
])
def test_every_spelling_of_dataflow_is_one_name(args):
  assert beam_args.runner_name(args) == 'dataflowrunner'


def test_no_runner_is_none():
  assert beam_args.runner_name(['--project=p']) is None
  assert beam_args.runner_name(['--runner=direct']) == 'directrunner'
