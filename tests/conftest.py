"""Shared fixtures: taxi CSV data, and pipeline runs that several e2e tests inspect."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')

from pipeline import config as config_lib  # pylint: disable=wrong-import-position

REPO_ROOT = Path(__file__).resolve().parents[1]
EMBEDDED_CSV = Path(config_lib.EMBEDDED_DATA_ROOT) / 'data.csv'


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


@pytest.fixture(scope='session')
def taxi_slice_root(tmp_path_factory) -> Path:
  """Every 5th row of the embedded sample (about 3,000 rows): small but representative."""
  header, rows = read_taxi_rows()
  root = tmp_path_factory.mktemp('taxi_slice')
  write_csv(root / 'data.csv', header, rows[::5])
  return root


@pytest.fixture(scope='session')
def default_run(tmp_path_factory):
  """`make run`'s configuration on the embedded data, run twice (the second run hits the cache).

  Returns a dict with the pipeline home and, per run, the process and its last_run.json.
  """
  home = tmp_path_factory.mktemp('default_run_home')
  first = run_cli(['run'], home)
  first_summary = read_last_run(home)
  second = run_cli(['run'], home)
  return {'home': home, 'first': first, 'first_summary': first_summary,
          'second': second, 'second_summary': read_last_run(home)}


@pytest.fixture(scope='session')
def vertex(tmp_path_factory):
  """The local Vertex AI (vertex_local.api: gRPC over TLS on 127.0.0.1), shared by the whole
  session: gRPC reads its TLS roots once per process, so every test must trust the same CA.
  Clients reach it through `api_endpoint`; its Cloud Storage refuses every request, which keeps
  PipelineJob.submit() from its bucket checks."""
  from vertex_local.api import LocalVertexAI  # pylint: disable=import-outside-toplevel
  home = tmp_path_factory.mktemp('local_vertex')
  server = LocalVertexAI(home / 'state', home / 'gcs', refuse_storage=True).start()
  try:
    with pytest.MonkeyPatch.context() as patch:
      patch.setenv('GRPC_DEFAULT_SSL_ROOTS_FILE_PATH', server.roots_path)
      patch.setenv('STORAGE_EMULATOR_HOST', server.storage_emulator_host)
      server.check_client_trust()
      yield server
  finally:
    server.stop()
