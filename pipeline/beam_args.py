"""Reading Beam pipeline arguments without importing Beam: the executors that choose the
DirectRunner's mode (components/direct_runner.py) and the local Vertex engine, which runs a
spec's Dataflow steps on the DirectRunner (vertex_local/substitutions.py), read them alike."""

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
