"""The project's command line (`.venv/bin/pipeline`, or `python -m pipeline` in the venv):

  run                     run the pipeline and write last_run.json, on an engine (--engine):
                          local (LocalDagRunner, the default), vertex-local (the compiled Vertex
                          spec, run here as Vertex AI Pipelines would) or vertex (submitted)
  compile                 compile the KFP v2 spec of a profile for Vertex AI (offline)
  submit                  submit a run of a profile to Vertex AI Pipelines
  schedule create|list|pause|resume|delete    scheduled retraining on Vertex AI
  vertex-local serve      a local Vertex AI that runs the jobs submitted to it (and schedules)
  dataset init            write a dataset definition and curated schema from a sample of a CSV
                          (--csv), a folder of class folders of images (--images) or a CSV
                          manifest of images in Vertex AI's import format (--manifest)
  dataset baseline DIR    (re)measure a tabular definition's [baseline] table in place: the
                          naive baseline and a default gradient-boosted model on a sample
  report                  rebuild a run's report.html from the store (--run-id; default latest)
  runs                    list every run (failed ones too): time, engine, pipeline, status,
                          blessed, key metric, run id, data root, log

This is the edge: the environment is read here, once (pipeline/environment.py), into the
settings every engine takes (pipeline/settings.py); flags override the variables they stand for.
"""

import argparse
import logging
import os
import sys
import warnings
from typing import List, Optional

# google-api-core warns on import that Python 3.10 support is ending; TFX 1.16 needs 3.10.
warnings.filterwarnings('ignore', category=FutureWarning, module=r'google\.')

# pylint: disable=wrong-import-position
from core import example_files
from core.home import PipelineHome
from pipeline import environment as environment_lib
from pipeline import engines
from pipeline import report_commands
from pipeline import serve_command
from pipeline import settings as settings_lib
from pipeline.vertex import commands as vertex_commands
from runs import lock
from runs import report
# pylint: enable=wrong-import-position


def _parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(prog='python -m pipeline', description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  commands = parser.add_subparsers(dest='command', required=True)
  run = commands.add_parser('run', help='run the pipeline (default engine: local)')
  run.add_argument('--engine', choices=sorted(engines.ENGINES), default=engines.DEFAULT,
                   help='; '.join(f'{name}: {engine.help}'
                                  for name, engine in sorted(engines.ENGINES.items())))
  _data_arguments(run)
  run.add_argument('--pipeline-home', help='where runs write (default: $PIPELINE_HOME or '
                   './pipeline_home)')
  run.add_argument('--train-steps', type=int, help="training steps (default: $TRAIN_STEPS, "
                   "the dataset's train_steps, else from the row count)")
  run.add_argument('--no-cache', action='store_true', help='run every step, taking nothing '
                   'from the step cache (default: $CACHE=0 does the same)')
  vertex_commands.add_profile_argument(run)
  vertex_commands.add_run_arguments(run)
  for engine in engines.ENGINES.values():
    engine.add_arguments(run)
  vertex_commands.add_arguments(commands)
  for name in ('compile', 'submit'):
    _data_arguments(commands.choices[name])
  report_commands.add_arguments(commands)
  serve_command.add_arguments(commands)
  dataset = commands.add_parser('dataset', help='dataset definitions').add_subparsers(
      dest='dataset_command', required=True)
  init = dataset.add_parser('init', help='a definition and schema from a sample of a CSV, '
                            'from a folder of images (one subfolder per class), or from a '
                            'manifest listing images')
  source = init.add_mutually_exclusive_group(required=True)
  source.add_argument('--csv', help='a .csv or .csv.gz file with a header row')
  source.add_argument('--images', help='a folder with one subfolder of images per class')
  source.add_argument('--manifest', help="a CSV listing images in Vertex AI's import format: "
                      '[ML_USE,]PATH,LABEL a row (local paths; gs:// ones are read on Vertex)')
  init.add_argument('--label', help='the column to predict (--csv)')
  init.add_argument('--task', choices=('binary', 'multiclass', 'regression'),
                    help='default: from the label (0/1: binary; text or few whole numbers: '
                    'multiclass; other numbers: regression)')
  init.add_argument('--out', required=True, help='folder to write dataset.toml and schema.pbtxt')
  init.add_argument('--name', help='dataset name (default: the folder name)')
  measure = dataset.add_parser('baseline', help="(re)measure a tabular definition's naive "
                               'baseline and default gradient-boosted model into its [baseline]')
  measure.add_argument('definition', metavar='DIR',
                       help='a bundled dataset name or a folder holding dataset.toml')
  measure.add_argument('--csv', help="the CSV to sample (default: the first file of the "
                       "dataset's own data)")
  return parser


def _data_arguments(parser: argparse.ArgumentParser) -> None:
  parser.add_argument('--dataset', help='a bundled dataset (taxi, taxi_fare, penguins, '
                      'digits) or a folder with dataset.toml (default: $DATASET or taxi)')
  parser.add_argument('--data-root', help='folder of the data files (default: $DATA_ROOT or '
                      "the dataset's own data)")
  parser.add_argument('--num-shards', type=int, help='files per split ExampleGen and Transform '
                      'write, at least (default: $NUM_SHARDS or 8)')
  parser.add_argument('--compression', choices=sorted(example_files.COMPRESSIONS),
                      help='compression of those files (default: $EXAMPLE_COMPRESSION or gzip)')


def main(argv: Optional[List[str]] = None) -> int:
  args = _parser().parse_args(argv)
  if args.command == 'dataset':
    return _dataset_init(args)
  try:
    environment = environment_lib.read(
        os.environ, dataset=getattr(args, 'dataset', None),
        data_root=getattr(args, 'data_root', None),
        num_shards=getattr(args, 'num_shards', None),
        example_compression=getattr(args, 'compression', None),
        train_steps=getattr(args, 'train_steps', None),
        pipeline_home=getattr(args, 'pipeline_home', None),
        cache=False if getattr(args, 'no_cache', False) else None)
    home = PipelineHome.at(environment.pipeline_home)
    if args.command in ('report', 'runs'):
      return report_commands.run(args, home, engines.sources(home))
    if args.command == 'vertex-local':
      return serve_command.run(args, environment, home)
    settings = settings_lib.run_settings(environment)
  except ValueError as error:  # SettingsError, DatasetError: named bad values
    print(f'error: {error}', file=sys.stderr)
    return 2
  if args.command == 'run':
    return _run(args, settings, environment, home)
  _quiet_libraries()
  try:
    return vertex_commands.run(args, settings, environment, home)
  except ValueError as error:  # ProfileError, InvalidSettingError: before anything is sent
    print(f'error: {error}', file=sys.stderr)
    return 2


def _run(args, settings, environment, home: PipelineHome) -> int:
  """Every engine's exit codes: 0 succeeded (or submitted), 1 failed, 3 another run holds the
  pipeline home."""
  engine = engines.ENGINES[args.engine]

  def write_report(summary_json: dict, run_home: PipelineHome):
    return report.write_report(summary_json, run_home, engines.sources(run_home))

  try:
    summary = engine.run(settings, home, environment, args, print, write_report)
  except lock.PipelineBusyError as error:
    print(f'error: {error}', file=sys.stderr)
    return 3
  except ValueError as error:  # A profile, spec or parameter refused before the run started.
    print(f'error: {error}', file=sys.stderr)
    return 2
  return 0 if summary.status in ('succeeded', 'submitted') else 1


def _quiet_libraries() -> None:
  """Outside `run` (which logs everything to a file) keep stdout for our own lines: no
  TensorFlow C++ chatter, and library warnings on stderr. aiplatform prints INFO logs to stdout
  unless a StreamHandler already exists, so install one first. Level 3: TensorFlow's C++
  start-up also logs CUDA plugin registration *errors* on a machine without CUDA; compiling runs
  no TensorFlow op, so none of it matters."""
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
  handler = logging.StreamHandler(sys.stderr)
  handler.setLevel(logging.WARNING)
  logging.getLogger().addHandler(handler)


def _dataset_init(args) -> int:
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
  for name in ('tensorflow', 'apache_beam'):  # Deprecation and speed notes from the schema step.
    logging.getLogger(name).setLevel(logging.ERROR)
  from datadefs import init  # pylint: disable=import-outside-toplevel
  from datadefs.tabular import baseline  # pylint: disable=import-outside-toplevel
  try:
    if args.dataset_command == 'baseline':
      baseline.rewrite(args.definition, args.csv)
    elif args.images:
      from datadefs.images import init as image_init  # pylint: disable=import-outside-toplevel
      image_init.init_images(args.images, args.out, name=args.name)
    elif args.manifest:
      from datadefs.images import init as image_init  # pylint: disable=import-outside-toplevel
      image_init.init_manifest(args.manifest, args.out, name=args.name)
    elif not args.label:
      raise ValueError('--csv needs --label, the column to predict')
    else:
      init.init_dataset(args.csv, args.label, args.out, task=args.task, name=args.name)
  except (ValueError, OSError) as error:  # DatasetError and CsvInputError are ValueErrors
    print(f'error: {error}', file=sys.stderr)
    return 2
  return 0


if __name__ == '__main__':
  sys.exit(main())
