"""`python -m pipeline vertex-local serve`: a local Vertex AI that runs what is submitted to it
(vertex_local/service.py), until Ctrl-C. Clients reach it by sourcing the environment file it
writes (every Google Cloud client of that shell then talks to it), or through --api-endpoint
with that file's credentials and CA."""

import argparse
import signal
import threading

from core.home import PipelineHome
from pipeline import engines
from pipeline.environment import Environment
from runs import report


def add_arguments(commands: argparse._SubParsersAction) -> None:  # pylint: disable=protected-access
  local = commands.add_parser('vertex-local', help='the local Vertex AI (see docs/vertex-local.md)')
  actions = local.add_subparsers(dest='action', required=True)
  serve = actions.add_parser('serve', help='run a local Vertex AI that runs the pipeline jobs '
                             'submitted to it, until Ctrl-C')
  serve.add_argument('--pipeline-home', help='its state and the runs (default: $PIPELINE_HOME '
                     'or ./pipeline_home)')
  serve.add_argument('--data-root', help="the folder standing in for a spec's data folder "
                     "(default: $DATA_ROOT, else each spec's dataset's own data)")
  serve.add_argument('--project', default='local-project',
                     help='the project of the credentials it issues (default: local-project)')


def run(args: argparse.Namespace, environment: Environment, home: PipelineHome) -> int:
  # Imported here: the service imports the local engine and its API (seconds).
  from vertex_local import service  # pylint: disable=import-outside-toplevel

  def write_report(summary_json: dict, run_home: PipelineHome):
    return report.write_report(summary_json, run_home, engines.sources(run_home))

  settings = service.ServiceSettings(home=home, data_root=environment.data_root,
                                     project=args.project)
  stop = threading.Event()
  for sig in (signal.SIGINT, signal.SIGTERM):
    signal.signal(sig, lambda *_: stop.set())
  with service.LocalPipelineService(settings, print, write_report) as running:
    print(f'local Vertex AI at {running.api.endpoint} (project {settings.project}); pipeline '
          f'home {home.root}', flush=True)
    print(f'clients: source {running.client_env_file}   (then `python -m pipeline submit`, '
          'aiplatform.PipelineJob(...).submit(), ... reach it)', flush=True)
    print('Ctrl-C stops it (a running pipeline job is cancelled)', flush=True)
    stop.wait()
  print('stopped', flush=True)
  return 0
