"""The project's command line: `taxi-pipeline run|compile` (also `python -m pipeline`)."""

import argparse
import os
import sys
from typing import List, Optional


def _parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(prog='taxi-pipeline', description=__doc__)
  commands = parser.add_subparsers(dest='command', required=True)
  run = commands.add_parser('run', help='run the pipeline locally (LocalDagRunner)')
  run.add_argument('--data-root', help='folder of CSV files (default: $DATA_ROOT or the '
                   'embedded Chicago taxi sample)')
  run.add_argument('--pipeline-home', help='where runs write (default: $PIPELINE_HOME or '
                   './pipeline_home)')
  run.add_argument('--train-steps', type=int, help='training steps (default: 2000)')
  compile_ = commands.add_parser('compile', help='compile the KFP v2 spec for Vertex AI')
  compile_.add_argument('--output', default='build/pipeline.json')
  return parser


def main(argv: Optional[List[str]] = None) -> int:
  args = _parser().parse_args(argv)
  # Imports are deferred: TensorFlow takes seconds to import and --help should not wait.
  if args.command == 'run':
    from pipeline import config as config_lib
    from pipeline import local_run
    try:
      config = config_lib.LocalConfig.from_env(
          os.environ, data_root=args.data_root, train_steps=args.train_steps,
          pipeline_home=args.pipeline_home)
    except ValueError as error:
      print(f'error: {error}', file=sys.stderr)
      return 2
    summary = local_run.run_and_report(config, print)
    return 0 if summary.status == 'succeeded' else 1
  if args.command == 'compile':
    from pipeline import vertex_runner
    path = vertex_runner.compile_spec(vertex_runner.VertexConfig.from_env(os.environ),
                                      args.output)
    print(f'compiled {path}')
    return 0
  return 2


if __name__ == '__main__':
  sys.exit(main())
