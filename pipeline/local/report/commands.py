"""`python -m pipeline report` and `python -m pipeline runs`: a past run's report, rebuilt from
the engines' stores, and the list of past runs (pipeline/cli.py delegates here)."""

import argparse
import os
import sys
from pathlib import Path
from typing import Optional


def add_arguments(commands) -> None:
  """Adds the `report` and `runs` subcommands to the CLI's subparsers."""
  report = commands.add_parser(
      'report', help='rebuild the report.html of a run (default: the latest) from the store')
  report.add_argument('--run-id', help='the run (as `runs` lists it); default: the latest run, '
                      'into <pipeline home>/report.html; others go to reports/<run id>.html')
  report.add_argument('--pipeline-home', help='default: $PIPELINE_HOME or ./pipeline_home')
  runs = commands.add_parser('runs', help='list past runs: id, time, status, blessed, key '
                             'metric, pushed model')
  runs.add_argument('--pipeline-home', help='default: $PIPELINE_HOME or ./pipeline_home')


def pipeline_home(argument: Optional[str]) -> Path:
  """The same default as `run` (pipeline/local/config.py LocalConfig.from_env)."""
  return Path(argument or os.environ.get('PIPELINE_HOME') or 'pipeline_home').resolve()


def run(args: argparse.Namespace) -> int:
  from pipeline.local import report  # pylint: disable=import-outside-toplevel
  home = pipeline_home(args.pipeline_home)
  if not home.is_dir():
    print(f'error: pipeline home {home} does not exist: no runs to show', file=sys.stderr)
    return 2
  if args.command == 'report':
    try:
      path = report.rebuild(home, args.run_id)
    except LookupError as error:
      print(f'error: {error} (python -m pipeline runs lists them)', file=sys.stderr)
      return 2
    print(f'report: {path}')
    return 0
  runs = report.list_runs(home)
  if not runs:
    print(f'no runs recorded in {home}')
    return 0
  print(f'{"run id":<40} {"started":<19} {"engine":<12} {"status":<10} {"blessed":<7} '
        f'{report.KEY_METRIC:<15} pushed model')
  for engine, started, summary in runs:
    metric = summary.get('key_metric')
    print(f'{summary["run_id"]:<40} {started:<19} {engine:<12} {summary["status"]:<10} '
          f'{_yes_no(summary.get("blessed")):<7} '
          f'{"" if metric is None else f"{metric:.4f}":<15} '
          f'{summary.get("pushed_model") or "-"}')
  return 0


def _yes_no(value: Optional[bool]) -> str:
  return '-' if value is None else ('yes' if value else 'no')
