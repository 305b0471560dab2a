"""`python -m pipeline report` and `python -m pipeline runs`: a past run's report, rebuilt from
the engines' stores, and the list of past runs (pipeline/cli.py delegates here)."""

import argparse
import sys
from typing import Mapping

from core.home import PipelineHome
from runs import report
from runs import run_list
from runs.report.record import RunSource


def add_arguments(commands) -> None:
  """Adds the `report` and `runs` subcommands to the CLI's subparsers."""
  rebuilt = commands.add_parser(
      'report', help='rebuild the report.html of a run (default: the latest) from the store')
  rebuilt.add_argument('--run-id', help='the run (as `runs` lists it); default: the latest run, '
                       'into <pipeline home>/report.html; others go to reports/<run id>.html')
  rebuilt.add_argument('--pipeline-home', help='default: $PIPELINE_HOME or ./pipeline_home')
  runs = commands.add_parser('runs', help='list every run (failed ones too): time, engine, '
                             'pipeline, status, blessed, key metric, data root, log')
  runs.add_argument('--pipeline-home', help='default: $PIPELINE_HOME or ./pipeline_home')


def run(args: argparse.Namespace, home: PipelineHome, sources: Mapping[str, RunSource]) -> int:
  if not home.root.is_dir():
    print(f'error: pipeline home {home.root} does not exist: no runs to show', file=sys.stderr)
    return 2
  if args.command == 'report':
    try:
      path = report.rebuild(home, sources, args.run_id)
    except LookupError as error:
      print(f'error: {error} (python -m pipeline runs lists them)', file=sys.stderr)
      return 2
    print(f'report: {path}')
    return 0
  found = run_list.rows(home, sources)
  if not found:
    print(f'no runs recorded in {home.root}')
    return 0
  print('\n'.join(run_list.render(found)))
  return 0
