"""Shared fixtures: taxi CSV data, and pipeline runs that several e2e tests inspect."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')

import datadefs  # pylint: disable=wrong-import-position

REPO_ROOT = Path(__file__).resolve().parents[1]
# The Chicago taxi sample in the tfx package: the taxi dataset's own data.
EMBEDDED_DATA_ROOT = datadefs.data_root(datadefs.load('taxi'))
EMBEDDED_CSV = Path(EMBEDDED_DATA_ROOT) / 'data.csv'


def read_taxi_rows():
  """(header, rows) of the embedded Chicago taxi sample."""
  with EMBEDDED_CSV.open(newline='') as f:
    reader = csv.reader(f)
    header = next(reader)
    return header, list(reader)


def write_csv(path: Path, header, rows) -> Path:
  path.parent.mkdir(parents=True, exist_ok=True)
  with path.open('w', newline='') as f:
    writer = csv.writer(f)
    writer.writerow(header)
    writer.writerows(rows)
  return path


def cli_env(pipeline_home: Path, data_root=None, train_steps=None, extra_env=None):
  """The environment of a CLI run: this one, with the pipeline's variables set."""
  env = dict(os.environ, PIPELINE_HOME=str(pipeline_home))
  env.pop('DATA_ROOT', None)
  if data_root is not None:
    env['DATA_ROOT'] = str(data_root)
  if train_steps is not None:
    env['TRAIN_STEPS'] = str(train_steps)
  env.update(extra_env or {})
  return env


def run_cli(args, pipeline_home: Path, data_root=None, train_steps=None, timeout=900,
            extra_env=None):
  """Runs `python -m pipeline <args>` as a user would; returns the CompletedProcess."""
  env = cli_env(pipeline_home, data_root, train_steps, extra_env)
  return subprocess.run([sys.executable, '-m', 'pipeline', *args], env=env, cwd=REPO_ROOT,
                        capture_output=True, text=True, timeout=timeout, check=False)


def read_last_run(pipeline_home: Path) -> dict:
  return json.loads((pipeline_home / 'last_run.json').read_text())


# `make test` runs the tests in parallel processes (pytest-xdist). Each worker has its own
# session, so tests that share a costly fixture must run in one worker, or each worker makes the
# fixture again: a module's tests share its module fixtures (compiled specs, the lint venv that
# only one process may install at a time, ...), and the modules below share a session fixture.
# The xdist master sees only test ids (pytest-xdist 3.8's xdist_group marks do not reach it under
# pytest 9.2: it renames nodes through an attribute pytest 9 no longer reads), so the groups are
# told by module path: a group of modules, else the module. _check_shared_fixtures keeps this
# list true.
_SHARED_SESSION_FIXTURES = {
    # Two whole `make run`s; these modules inspect or reuse the one pipeline home.
    'default_run': ('tests/pipeline/engines/test_local_run_e2e.py',
                    'tests/pipeline/engines/test_bad_input_e2e.py',
                    'tests/pipeline/engines/test_tfx_cli_e2e.py', 'tests/test_train_serve_skew.py'),
    # The bench tests' data, made by TF Transform on Beam.
    'tiny_data': ('tests/bench/',),
    # Gradient-boosted trees and a network trained on the penguins (tests/trees.py).
    'trained_trees': ('tests/trainer/test_trees.py', 'tests/core/test_custom_ops.py'),
}


def xdist_group(nodeid: str) -> str:
  """The group of a test: tests of one group run in one worker, in collection order."""
  module = nodeid.split('::', 1)[0]
  for fixture, modules in _SHARED_SESSION_FIXTURES.items():
    if any(module == path or (path.endswith('/') and module.startswith(path))
           for path in modules):
      return fixture
  return module


def _check_shared_fixtures(items) -> None:
  for item in items:
    for fixture in _SHARED_SESSION_FIXTURES:
      if fixture in item.fixturenames and xdist_group(item.nodeid) != fixture:
        raise pytest.UsageError(
            f'{item.nodeid} uses the session fixture {fixture!r}: add its module to '
            f"_SHARED_SESSION_FIXTURES[{fixture!r}] in tests/conftest.py, so that it runs in the "
            'worker that made the fixture')


def _cost(items) -> tuple:
  """Sort key of a group: e2e before integration before unit tests, then larger groups first."""
  return (-sum(1 for item in items if item.get_closest_marker('e2e')),
          -sum(1 for item in items if item.get_closest_marker('integration')),
          -len(items))


def pytest_collection_modifyitems(config, items):
  _check_shared_fixtures(items)
  if hasattr(config, 'workerinput'):
    # In an xdist worker: put the long groups first, as the scheduler below hands groups out in
    # collection order. A whole-pipeline group that started last would leave the other worker
    # idle for minutes. A group's tests keep their order; a run without xdist keeps the
    # collection order.
    groups = {}
    for item in items:
      groups.setdefault(xdist_group(item.nodeid), []).append(item)
    items[:] = [item for _, members in sorted(groups.items(), key=lambda group: _cost(group[1]))
                for item in members]


# optionalhook: the hook exists only with pytest-xdist installed (`-p no:xdist` still works).
@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
  """`-n N` (--dist load) and --dist loadgroup: whole groups (xdist_group above) per worker,
  handed out in the order the workers collected them."""
  if config.getvalue('dist') not in ('load', 'loadgroup'):
    return None  # Another --dist asked for by name: xdist's own.
  from xdist.scheduler import LoadScopeScheduling  # pylint: disable=import-outside-toplevel

  class GroupScheduling(LoadScopeScheduling):
    """LoadScopeScheduling (a scope runs on one worker) with our groups as the scopes."""

    def _split_scope(self, nodeid: str) -> str:
      return xdist_group(nodeid)

  # Keep the collection order (long groups first) instead of sorting scopes by test count.
  config.option.loadscopereorder = False
  return GroupScheduling(config, log)


@pytest.fixture(scope='session')
def taxi_slice_root(tmp_path_factory) -> Path:
  """Every 5th row of the embedded sample (about 3,000 rows): small but representative."""
  header, rows = read_taxi_rows()
  root = tmp_path_factory.mktemp('taxi_slice')
  write_csv(root / 'data.csv', header, rows[::5])
  return root


@pytest.fixture(scope='session')
def default_run(tmp_path_factory):
  """`make run`'s configuration on the embedded data, run three times: first; again with
  nothing changed (nothing new: done at once); and again with --force (every step up to the
  Trainer from TFX's cache, the unchanged model neither re-evaluated nor pushed).

  Returns a dict with the pipeline home and, per run, the process and its last_run.json; and
  the first run's report.html as it wrote it (other tests run more runs in this home, which
  write the page anew).
  """
  home = tmp_path_factory.mktemp('default_run_home')
  first = run_cli(['run'], home)
  first_summary = read_last_run(home)
  first_report = Path(first_summary['report']).read_text()
  second = run_cli(['run'], home)
  second_summary = read_last_run(home)
  forced = run_cli(['run', '--force'], home)
  return {'home': home, 'first': first, 'first_summary': first_summary,
          'first_report': first_report, 'second': second, 'second_summary': second_summary,
          'forced': forced, 'forced_summary': read_last_run(home)}


@pytest.fixture(scope='session')
def trained_trees(tmp_path_factory):
  """{'trees': SavedModel folder of gradient-boosted trees, 'network': of an (untrained) network,
  both saved as the Trainer saves models, 'eval_rows': the raw eval rows (tests/trees.py)}."""
  from tests import trees  # pylint: disable=import-outside-toplevel; TF Transform, TF-DF
  return trees.train_and_save(tmp_path_factory.mktemp('trained_trees'))


@pytest.fixture(scope='session')
def vertex(tmp_path_factory):
  """The local Vertex AI (vertex_local.api: gRPC over TLS on 127.0.0.1), shared by the whole
  session: gRPC reads its TLS roots once per process, so every test must trust the same CA.
  Clients reach it through `api_endpoint`, with the credentials it issued (its key file in
  GOOGLE_APPLICATION_CREDENTIALS for child processes, `server.credentials()` here); its Cloud
  Storage refuses every request, which keeps PipelineJob.submit() from its bucket checks."""
  from vertex_local.api import LocalVertexAI  # pylint: disable=import-outside-toplevel
  home = tmp_path_factory.mktemp('local_vertex')
  server = LocalVertexAI(home / 'state', home / 'gcs', refuse_storage=True).start()
  try:
    with pytest.MonkeyPatch.context() as patch:
      patch.setenv('GRPC_DEFAULT_SSL_ROOTS_FILE_PATH', server.roots_path)
      patch.setenv('STORAGE_EMULATOR_HOST', server.storage_emulator_host)
      patch.setenv('GOOGLE_APPLICATION_CREDENTIALS', server.credentials_path)
      server.check_client_trust()
      yield server
  finally:
    server.stop()
