"""The project's command line (`taxi-pipeline`, or `python -m pipeline`):

  run                     run the pipeline locally and write last_run.json: with LocalDagRunner
                          (--engine local, the default), or run a compiled Vertex spec on this
                          machine (--engine vertex-local --spec FILE | --profile NAME)
  compile                 compile the KFP v2 spec of a profile for Vertex AI (offline)
  submit                  submit a run of a profile to Vertex AI Pipelines
  schedule create|list|pause|resume|delete    scheduled retraining on Vertex AI
  dataset init            write a dataset definition and curated schema from a sample of a CSV
  report                  rebuild a run's report.html from the store (--run-id; default latest)
  runs                    list past runs: id, time, status, blessed, key metric, pushed model
"""

import argparse
import logging
import os
import sys
import warnings
from pathlib import Path
from typing import List, Optional

# google-api-core warns on import that Python 3.10 support is ending; TFX 1.16 needs 3.10.
warnings.filterwarnings('ignore', category=FutureWarning, module=r'google\.')

from components import example_files  # pylint: disable=wrong-import-position
from pipeline.vertex import commands as vertex_commands  # pylint: disable=wrong-import-position
from pipeline.local.report import commands as report_commands  # pylint: disable=wrong-import-position


def _parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(prog='python -m pipeline', description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  commands = parser.add_subparsers(dest='command', required=True)
  run = commands.add_parser('run', help='run the pipeline locally (LocalDagRunner)')
  run.add_argument('--data-root', help='folder of CSV files (default: $DATA_ROOT or the '
                   "dataset's own data)")
  run.add_argument('--pipeline-home', help='where runs write (default: $PIPELINE_HOME or '
                   './pipeline_home)')
  run.add_argument('--train-steps', type=int, help="training steps (default: $TRAIN_STEPS, "
                   "the dataset's train_steps, else from the row count)")
  run.add_argument('--dataset', help='a bundled dataset (taxi, taxi_fare, penguins) or a folder '
                   'with dataset.toml (default: $DATASET or taxi)')
  run.add_argument('--num-shards', type=int, help='files per split ExampleGen and Transform '
                   'write, at least (default: $NUM_SHARDS or 8)')
  run.add_argument('--compression', choices=sorted(example_files.COMPRESSIONS),
                   help='compression of those files (default: $EXAMPLE_COMPRESSION or gzip)')
  run.add_argument('--force', action='store_true',
                   help='run even when the data, settings and code are those of the last '
                   'successful run (steps then come from the cache)')
  run.add_argument('--engine', choices=('local', 'vertex-local'), default='local',
                   help='local: LocalDagRunner; vertex-local: run the compiled Vertex spec here, '
                   'as Vertex AI Pipelines would (README: "Run the exact spec")')
  run.add_argument('--spec', help='vertex-local: the compiled spec to run (default: compile '
                   '--profile first, to build/pipeline-<profile>.json)')
  run.add_argument('--profile', default='vertex-cpu',
                   help='vertex-local without --spec: the profile to compile (default vertex-cpu)')
  vertex_commands.add_arguments(commands)
  report_commands.add_arguments(commands)
  dataset = commands.add_parser('dataset', help='dataset definitions').add_subparsers(
      dest='dataset_command', required=True)
  init = dataset.add_parser('init', help='a definition and schema from a sample of a CSV')
  init.add_argument('--csv', required=True, help='a .csv or .csv.gz file with a header row')
  init.add_argument('--label', required=True, help='the column to predict')
  init.add_argument('--task', choices=('binary', 'multiclass', 'regression'),
                    help='default: from the label (0/1: binary; text or few whole numbers: '
                    'multiclass; other numbers: regression)')
  init.add_argument('--out', required=True, help='folder to write dataset.toml and schema.pbtxt')
  init.add_argument('--name', help='dataset name (default: the folder name)')
  return parser


def main(argv: Optional[List[str]] = None) -> int:
  args = _parser().parse_args(argv)
  if args.command in ('report', 'runs'):
    return report_commands.run(args)
  if args.command == 'dataset':
    return _dataset_init(args)
  # Heavy imports are deferred: TensorFlow takes seconds to import and --help should not wait.
  if args.command == 'run' and args.engine == 'vertex-local':
    return _run_vertex_local(args)
  if args.command == 'run':
    from pipeline.local import config as config_lib
    from pipeline.local import run as local_run
    try:
      config = config_lib.LocalConfig.from_env(
          _with_dataset(args), data_root=args.data_root, train_steps=args.train_steps,
          pipeline_home=args.pipeline_home, num_shards=args.num_shards,
          compression=args.compression)
    except ValueError as error:
      print(f'error: {error}', file=sys.stderr)
      return 2
    return _exit_code(lambda: local_run.run_and_report(config, print, force=args.force))

  # Outside `run` (which logs everything to a file) keep stdout for our own lines: no
  # TensorFlow C++ chatter, and library warnings on stderr. aiplatform prints INFO logs to stdout
  # unless a StreamHandler already exists, so install one first.
  # Level 3: TensorFlow's C++ start-up also logs CUDA plugin registration *errors* (cuFFT, cuDNN,
  # cuBLAS) on a machine without CUDA; compiling runs no TensorFlow op, so none of it matters.
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
  handler = logging.StreamHandler(sys.stderr)
  handler.setLevel(logging.WARNING)
  logging.getLogger().addHandler(handler)
  from pipeline.vertex import profiles
  environ = os.environ
  if args.command == 'compile':
    environ = _with_example_identity(args.profile, environ)
  try:
    profile = profiles.load_profile(args.profile, environ)
  except profiles.ProfileError as error:
    print(f'error: {error}', file=sys.stderr)
    return 2
  return vertex_commands.run(args, profile)


def _with_dataset(args):
  """The environment, with --dataset as DATASET (so a compile in the same run sees it)."""
  if args.dataset:
    os.environ['DATASET'] = args.dataset
  return os.environ


def _with_example_identity(profile: str, environ):
  """Compiling needs no real identity: without GCP_PROJECT/GCS_BUCKET, an example one."""
  if profile == 'local' or environ.get('GCP_PROJECT') or environ.get('GCS_BUCKET'):
    return environ
  print('compile: GCP_PROJECT/GCS_BUCKET not set; using example-project/example-project-taxi '
        '(set them for a deployable spec)')
  return dict(environ, GCP_PROJECT='example-project', GCS_BUCKET='example-project-taxi')


def _run_vertex_local(args) -> int:
  """Compiles the profile (unless --spec names a spec), then runs the spec on the local engine
  with `make run`'s console, lock, last_run.json and exit codes."""
  from pipeline.local import config as config_lib  # pylint: disable=import-outside-toplevel
  from vertex_local import engine  # pylint: disable=import-outside-toplevel
  from vertex_local import run as vertex_local_run  # pylint: disable=import-outside-toplevel
  try:
    config = config_lib.LocalConfig.from_env(_with_dataset(args), data_root=args.data_root,
                                             pipeline_home=args.pipeline_home)
  except ValueError as error:
    print(f'error: {error}', file=sys.stderr)
    return 2
  spec = args.spec
  if spec is None:
    code = main(['compile', '--profile', args.profile])
    if code:
      return code
    spec = vertex_commands.default_spec_path_for(args.profile)
  settings = engine.EngineSettings(spec_path=Path(spec).resolve(),
                                   pipeline_home=config.pipeline_home, data_root=config.data_root)
  return _exit_code(lambda: vertex_local_run.run_and_report(settings, print))


def _dataset_init(args) -> int:
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
  for name in ('tensorflow', 'apache_beam'):  # Deprecation and speed notes from the schema step.
    logging.getLogger(name).setLevel(logging.ERROR)
  from datasets import init  # pylint: disable=import-outside-toplevel
  from datasets.definition import DatasetError  # pylint: disable=import-outside-toplevel
  try:
    init.init_dataset(args.csv, args.label, args.out, task=args.task, name=args.name)
  except (ValueError, OSError, DatasetError) as error:
    print(f'error: {error}', file=sys.stderr)
    return 2
  return 0


def _exit_code(run_and_report) -> int:
  """Both engines' exit codes: 0 succeeded, 1 failed, 3 another run holds the pipeline home."""
  from pipeline.local import run_lock  # pylint: disable=import-outside-toplevel
  try:
    summary = run_and_report()
  except run_lock.PipelineBusyError as error:
    print(f'error: {error}', file=sys.stderr)
    return 3
  return 0 if summary.status == 'succeeded' else 1


if __name__ == '__main__':
  sys.exit(main())
