"""Beam pipeline arguments, read without importing Beam: the executors that choose the
DirectRunner's mode (components/direct_runner.py) and the local Vertex engine, which runs a
spec's Dataflow steps on the DirectRunner (vertex_local/substitutions.py), read them alike; and
the arguments of local runs."""

from typing import Optional, Sequence


def flag_value(beam_args: Sequence[str], name: str) -> Optional[str]:
  """The value of `--name=value` or `--name value` in beam_args (the last one wins), else None."""
  value = None
  for index, arg in enumerate(beam_args):
    if arg.startswith(f'--{name}='):
      value = arg.split('=', 1)[1]
    elif arg == f'--{name}' and index + 1 < len(beam_args):
      value = beam_args[index + 1]
  return value


def runner_name(beam_args: Sequence[str]) -> Optional[str]:
  """The runner `--runner` names, as Beam resolves it: the class name of a dotted path, case
  ignored, with the 'runner' suffix ('dataflow', 'DataflowRunner' and
  'apache_beam.runners.dataflow.dataflow_runner.DataflowRunner' are all 'dataflowrunner');
  None when unset."""
  value = flag_value(beam_args, 'runner')
  if not value:
    return None
  name = value.split('.')[-1].lower()
  return name if name.endswith('runner') else name + 'runner'


# The Beam arguments of local runs (LocalDagRunner, and the local Vertex engine in place of a
# spec's Dataflow arguments): the DirectRunner, whose running mode the components choose by input
# size (components/direct_runner.py). TFX's Beam executors repackage all of TFX as an sdist for
# remote workers (3-4 s per Beam component: tfx/utils/dependency_utils.py) unless a dependency
# flag is set; the DirectRunner runs in this very environment, so one is set, to a value the
# DirectRunner never reads.
LOCAL_BEAM_ARGS = ('--sdk_container_image=unused-by-the-local-direct-runner',)
