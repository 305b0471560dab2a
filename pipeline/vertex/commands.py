"""The CLI's Vertex AI commands: compile, submit, schedule create|list|pause|resume|delete.

Each takes parsed argparse args and a profile, prints what a user needs (resource names,
console links) and returns an exit code; errors from Vertex arrive as VertexJobError and are
printed as one clear line.
"""

import argparse
import datetime
from typing import Dict, Optional, Tuple

from core.home import PipelineHome
from pipeline.environment import Environment
from pipeline.settings import RunSettings
from pipeline.vertex import jobs as vertex_jobs
from pipeline.vertex import profiles
from pipeline.vertex.settings import InvalidSettingError
from pipeline.vertex.profiles import Profile
from runs.console import PrintLine


def add_arguments(commands: argparse._SubParsersAction) -> None:  # pylint: disable=protected-access
  """Adds compile, submit and schedule to the CLI."""
  compile_ = commands.add_parser('compile', help='compile the KFP v2 spec for a profile')
  _common(compile_)
  compile_.add_argument('--output', help='default: build/pipeline-<profile>.json')

  submit = commands.add_parser('submit', help='submit a run to Vertex AI Pipelines')
  _common(submit)
  _remote(submit)
  submit.add_argument('--spec', help='compiled spec (default: compile the profile now)')
  submit.add_argument('--no-cache', action='store_true',
                      help='disable step caching (default: $CACHE=0 does the same)')
  add_run_arguments(submit)

  schedule = commands.add_parser('schedule', help='scheduled retraining on Vertex AI')
  actions = schedule.add_subparsers(dest='action', required=True)
  create = actions.add_parser('create', help='run the pipeline on a cron schedule')
  _common(create)
  _remote(create)
  create.add_argument('--spec', help='compiled spec (default: compile the profile now)')
  create.add_argument('--cron', required=True,
                      help='5-field cron, time zone prefix allowed: "TZ=America/Chicago 0 3 * * 1"')
  create.add_argument('--max-concurrent-runs', type=int, default=1)
  create.add_argument('--start-time', type=_iso_time, help='ISO 8601 with time zone')
  create.add_argument('--end-time', type=_iso_time, help='ISO 8601 with time zone')
  for verb in ('list', 'pause', 'resume', 'delete'):
    action = actions.add_parser(verb, help=f'{verb} schedules')
    _common(action)
    _remote(action)
    if verb != 'list':
      action.add_argument('name', help='schedule ID or full resource name')


def _common(parser):
  add_profile_argument(parser)


def add_run_arguments(parser) -> None:
  """What a run of a compiled spec takes, on Vertex AI or the local engine."""
  parser.add_argument('--param', action='append', default=[], metavar='NAME=VALUE',
                      help='a pipeline parameter of the compiled spec (repeatable), typed as the '
                      'spec declares it, e.g. --param data_root=gs://bucket/data/2025-01')
  parser.add_argument('--failure-policy', choices=('slow', 'fast'),
                      help="after a failed step: 'slow' (Vertex's default) runs every step that "
                      "does not depend on it, 'fast' starts no more steps")


def parameters(items) -> Dict[str, str]:
  """{name: value} of --param NAME=VALUE items; ValueError naming a malformed one."""
  values = {}
  for item in items or []:
    name, sep, value = item.partition('=')
    if not sep or not name:
      raise InvalidSettingError('--param', item, 'expected NAME=VALUE')
    values[name] = value
  return values


def add_profile_argument(parser) -> None:
  parser.add_argument('--profile', help='deployment profile (default: $PROFILE or vertex-cpu)')


def _remote(parser):
  parser.add_argument('--api-endpoint', help='Vertex AI API host:port override (an emulator)')
  parser.add_argument('--anonymous', action='store_true',
                      help='send no credentials (only for an emulator)')


def _iso_time(text: str) -> datetime.datetime:
  try:
    value = datetime.datetime.fromisoformat(text)
  except ValueError:
    raise argparse.ArgumentTypeError(f'not an ISO 8601 time: {text!r}') from None
  if value.tzinfo is None:
    raise argparse.ArgumentTypeError(f'give a time zone, e.g. {text}+00:00')
  return value


def default_spec_path(profile_name: str) -> str:
  return f'build/pipeline-{profile_name}.json'


def load(profile_name: Optional[str], environment: Environment,
         example_identity: bool = False) -> Profile:
  """The profile named (else $PROFILE, else vertex-cpu). With `example_identity`, a profile on
  Vertex without GCP_PROJECT/GCS_BUCKET gets an example identity (compiling needs no real one),
  and says so."""
  profile = profiles.load_profile(profile_name or environment.profile or 'vertex-cpu',
                                  environment, example_identity=example_identity)
  if profile.project == profiles.EXAMPLE_PROJECT:
    print(f'compile: GCP_PROJECT/GCS_BUCKET not set; using {profile.project}/{profile.bucket} '
          '(set them for a deployable spec)')
  return profile


def compile_profile(profile_name: Optional[str], settings: RunSettings,
                    environment: Environment, home: PipelineHome,
                    output: Optional[str] = None, example_identity: bool = True) -> str:
  """Compiles the profile's spec of `settings` (offline; an example identity when none is set,
  unless `example_identity` is False); returns its path."""
  profile = load(profile_name, environment, example_identity=example_identity)
  return _compile(profile, profile.run_settings(settings, environment),
                  output or default_spec_path(profile.name), home)


def submit_run(profile_name: Optional[str], settings: RunSettings, environment: Environment,
               home: PipelineHome, spec: Optional[str] = None, no_cache: bool = False,
               parameters: Optional[Dict[str, str]] = None, remote: Optional[dict] = None,
               print_line: PrintLine = print, failure_policy: Optional[str] = None
               ) -> Tuple[vertex_jobs.SubmittedRun, str]:
  """Submits one run of the profile (compiling it unless `spec` names one); returns the
  submitted run and the pipeline's name."""
  profile = load(profile_name, environment)
  run = profile.run_settings(settings, environment)
  remote = remote or {}
  spec = spec or _compile(profile, run, default_spec_path(profile.name), home)
  _stage_schema(profile, run, remote.get('credentials'), print_line)
  submitted = vertex_jobs.submit(spec, _job_settings(profile, no_cache, parameters or {},
                                                    failure_policy), **remote)
  print_line(f'submitted {submitted.resource_name}')
  print_line(f'console: {submitted.console_link}')
  return submitted, profile.pipeline_name(run.dataset)


def run(args: argparse.Namespace, settings: RunSettings, environment: Environment,
        home: PipelineHome) -> int:
  """Dispatches one Vertex command; returns the process exit code."""
  if args.command == 'compile':
    print(f'compiled {compile_profile(args.profile, settings, environment, home, args.output)}')
    return 0
  remote = {'api_endpoint': args.api_endpoint, 'credentials': _credentials(args)}
  profile = load(args.profile, environment)
  try:
    if args.command == 'submit':
      submit_run(args.profile, settings, environment, home, spec=args.spec,
                 no_cache=not settings.enable_cache, parameters=parameters(args.param),
                 remote=remote, failure_policy=args.failure_policy)
      return 0
    if args.action == 'create':
      run_settings = profile.run_settings(settings, environment)
      spec = args.spec or _compile(profile, run_settings, default_spec_path(profile.name), home)
      _stage_schema(profile, run_settings, remote['credentials'], print)
      created = vertex_jobs.create_schedule(
          spec, _job_settings(profile, False, {}), args.cron, args.max_concurrent_runs,
          args.start_time, args.end_time, **remote)
      _print_schedule(created)
      return 0
    if args.action == 'list':
      for info in vertex_jobs.list_schedules(profile.project, profile.region, **remote):
        _print_schedule(info)
      return 0
    change = {'pause': vertex_jobs.pause_schedule, 'resume': vertex_jobs.resume_schedule,
              'delete': vertex_jobs.delete_schedule}[args.action]
    result = change(args.name, profile.project, profile.region, **remote)
    if result is None:
      print(f'deleted {args.name}')
    else:
      _print_schedule(result)
    return 0
  except vertex_jobs.VertexJobError as error:
    print(f'error: {error}')
    return 1


def _compile(profile: Profile, settings: RunSettings, output: str, home: PipelineHome) -> str:
  # Imported only when compiling: it pulls in TensorFlow and TFX (seconds).
  from pipeline.vertex import compiler  # pylint: disable=import-outside-toplevel
  return compiler.compile_spec(profile, settings, output, home)


def _stage_schema(profile: Profile, settings: RunSettings, credentials,
                  print_line: PrintLine) -> None:
  """A dataset outside the checkout has no copy in the image: its schema goes to the bucket,
  where the compiled spec reads it (compiler.schema_path)."""
  from pipeline.vertex import compiler  # pylint: disable=import-outside-toplevel
  target = compiler.schema_path(profile, settings.dataset)
  if target.startswith('gs://'):
    vertex_jobs.upload_file(settings.dataset.schema_path, target, profile.project, credentials)
    print_line(f'uploaded the schema of dataset {settings.dataset.name!r} to {target}')


def _credentials(args):
  if not args.anonymous:
    return None
  from google.auth import credentials  # pylint: disable=import-outside-toplevel
  return credentials.AnonymousCredentials()


def _job_settings(profile: Profile, no_cache: bool, parameters: Dict[str, str],
                  failure_policy: Optional[str] = None):
  return vertex_jobs.JobSettings(
      project=profile.project, region=profile.region, pipeline_root=profile.pipeline_root(),
      service_account=profile.service_account, network=profile.network,
      labels=dict(profile.labels), encryption_key=profile.cmek_key,
      enable_caching=False if no_cache else None, parameter_values=parameters,
      failure_policy=failure_policy)


def _print_schedule(info: Optional[vertex_jobs.ScheduleInfo]) -> None:
  print(f'{info.resource_name}  {info.state}  cron="{info.cron}"  '
        f'max_concurrent={info.max_concurrent_run_count}')
  print(f'  console: {info.console_link}')
