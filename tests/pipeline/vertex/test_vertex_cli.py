"""The project CLI's submit/schedule and the tfx CLI's vertex engine, against the local Vertex AI
(vertex_local.api): real processes, the real aiplatform client, real gRPC on 127.0.0.1."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from google.protobuf import json_format

from tests.conftest import REPO_ROOT

# Every test runs the CLI in subprocesses (aiplatform, tfx), after compiling a spec in one that
# imports TensorFlow.
pytestmark = pytest.mark.integration

PROJECT = 'acme-project'
ACCOUNT = f'runner@{PROJECT}.iam.gserviceaccount.com'


@pytest.fixture()
def fake(vertex):
  vertex.reset()
  return vertex


@pytest.fixture(scope='module')
def gpu_spec(tmp_path_factory):
  output = tmp_path_factory.mktemp('spec') / 'gpu.json'
  result = _cli(['compile', '--profile', 'vertex-gpu', '--output', str(output)])
  assert result.returncode == 0, result.stderr[-2000:]
  return output


def _env():
  return dict(os.environ, GCP_PROJECT=PROJECT, GCS_BUCKET='acme-taxi',
              PIPELINE_SERVICE_ACCOUNT=ACCOUNT, PIPELINE_LABELS='team=ml,env=test',
              VPC_NETWORK='projects/123/global/networks/ml')


def _cli(args, **env_overrides):
  env = _env()
  env.update(env_overrides)
  return subprocess.run([sys.executable, '-m', 'pipeline', *args], cwd=REPO_ROOT, env=env,
                        capture_output=True, text=True, timeout=300, check=False)


def _as_dict(message) -> dict:
  return json_format.MessageToDict(type(message).pb(message))


def _remote(fake):
  # The CLI's own credentials: GOOGLE_APPLICATION_CREDENTIALS, the fixture's issued key.
  return ['--api-endpoint', fake.endpoint]


def test_submit_sends_the_profile_settings(fake, gpu_spec):
  result = _cli(['submit', '--profile', 'vertex-gpu', '--spec', str(gpu_spec), '--no-cache',
                 *_remote(fake)])
  assert result.returncode == 0, result.stdout + result.stderr[-2000:]
  job = fake.calls('CreatePipelineJob')[-1].request.pipeline_job
  assert job.service_account == ACCOUNT
  assert job.network == 'projects/123/global/networks/ml'
  assert dict(job.labels) == {'team': 'ml', 'env': 'test'}
  assert job.runtime_config.gcs_output_directory == 'gs://acme-taxi/pipeline_root'
  assert 'console: https://console.cloud.google.com/vertex-ai/locations/us-central1/' in (
      result.stdout)
  assert 'Trainer' in _as_dict(job)['pipelineSpec']['root']['dag']['tasks']


def test_submit_server_error_is_a_clear_message_and_exit_1(fake, gpu_spec):
  import grpc  # pylint: disable=import-outside-toplevel
  fake.fail_next(grpc.StatusCode.PERMISSION_DENIED, 'caller lacks aiplatform.pipelineJobs.create')
  result = _cli(['submit', '--profile', 'vertex-gpu', '--spec', str(gpu_spec), *_remote(fake)])
  assert result.returncode == 1
  assert result.stdout.startswith('error: permission denied')
  assert 'caller lacks aiplatform.pipelineJobs.create' in result.stdout
  assert 'Traceback' not in result.stdout


def test_schedule_lifecycle_through_the_cli(fake, gpu_spec):
  created = _cli(['schedule', 'create', '--profile', 'vertex-gpu', '--spec', str(gpu_spec),
                  '--cron', 'TZ=America/Chicago 0 3 * * 1', '--max-concurrent-runs', '1',
                  *_remote(fake)])
  assert created.returncode == 0, created.stdout + created.stderr[-2000:]
  request = fake.calls('CreateSchedule')[-1].request
  assert request.schedule.cron == 'TZ=America/Chicago 0 3 * * 1'
  name = created.stdout.split()[0]
  assert ' ACTIVE ' in created.stdout

  for action, state in (('pause', 'PAUSED'), ('resume', 'ACTIVE')):
    changed = _cli(['schedule', action, '--profile', 'vertex-gpu', name, *_remote(fake)])
    assert changed.returncode == 0, changed.stdout + changed.stderr[-2000:]
    listed = _cli(['schedule', 'list', '--profile', 'vertex-gpu', *_remote(fake)])
    assert f'{name}  {state}' in listed.stdout

  deleted = _cli(['schedule', 'delete', '--profile', 'vertex-gpu', name, *_remote(fake)])
  assert deleted.returncode == 0 and f'deleted {name}' in deleted.stdout
  listed = _cli(['schedule', 'list', '--profile', 'vertex-gpu', *_remote(fake)])
  assert name not in listed.stdout


def test_bad_cron_is_rejected_before_anything_is_sent(fake, gpu_spec):
  result = _cli(['schedule', 'create', '--profile', 'vertex-gpu', '--spec', str(gpu_spec),
                 '--cron', '0 25 * * *', *_remote(fake)])
  assert result.returncode == 1
  assert 'cron' in result.stdout
  assert fake.calls() == []


def test_tfx_cli_vertex_engine_creates_and_runs(fake, tmp_path):
  # As after `source .venv/bin/activate`: the tfx CLI looks for kfp with the `pip` on PATH.
  venv_bin = str(Path(sys.executable).parent)
  env = dict(_env(), VERTEX_HOME=str(tmp_path / 'vertex_home'), PROFILE='vertex-gpu',
             PATH=venv_bin + os.pathsep + os.environ['PATH'])
  tfx = str(Path(sys.executable).parent / 'tfx')
  created = subprocess.run(
      [tfx, 'pipeline', 'create', '--engine=vertex', '--pipeline_path=kubeflow_v2_runner.py'],
      cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
  assert created.returncode == 0, created.stdout + created.stderr[-2000:]
  assert fake.calls() == []  # Creating compiles only.

  # `tfx run create` has no endpoint flag: point aiplatform at the local server the way a user
  # would point it at an emulator (its credentials: the issued key), then run the real tfx CLI.
  launcher = textwrap.dedent(f'''
      import sys
      from google.cloud import aiplatform
      aiplatform.init(api_endpoint={fake.endpoint!r}, api_transport='grpc')
      from tfx.tools.cli.cli_main import cli_group
      sys.exit(cli_group(sys.argv[1:]))
  ''')
  ran = subprocess.run(
      [sys.executable, '-c', launcher, 'run', 'create', '--engine=vertex',
       '--pipeline_name=chicago-taxi-vertex-gpu', f'--project={PROJECT}', '--region=us-central1'],
      cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
  assert ran.returncode == 0, ran.stdout + ran.stderr[-2000:]
  assert 'Run created for pipeline: chicago-taxi-vertex-gpu' in ran.stdout
  job = fake.calls('CreatePipelineJob')[-1].request.pipeline_job
  assert 'Trainer' in _as_dict(job)['pipelineSpec']['root']['dag']['tasks']


def test_submit_of_a_dataset_outside_the_image_uploads_its_schema(fake, gpu_spec, tmp_path):
  from vertex_local.api import LocalVertexAI  # pylint: disable=import-outside-toplevel
  folder = tmp_path / 'shop'
  folder.mkdir()
  (folder / 'schema.pbtxt').write_text('feature { name: "x" type: FLOAT }\n')
  (folder / 'dataset.toml').write_text(
      'name = "shop"\ntask = "regression"\nblessing_threshold = 1.0\n[label]\ncolumn = "y"\n'
      '[columns]\nx = { type = "float", role = "numeric" }\ny = "float"\n')
  (tmp_path / 'gcs' / 'acme-taxi').mkdir(parents=True)  # The bucket (buckets are folders).
  storage = LocalVertexAI(tmp_path / 'state', tmp_path / 'gcs').start()  # Accepts uploads.
  try:
    spec = tmp_path / 'shop.json'
    compiled = _cli(['compile', '--profile', 'vertex-cpu', '--output', str(spec)],
                    DATASET=str(folder))
    assert compiled.returncode == 0, compiled.stderr[-2000:]
    assert 'gs://acme-taxi/datasets/shop/schema.pbtxt' in spec.read_text()
    result = _cli(['submit', '--profile', 'vertex-cpu', '--spec', str(spec), *_remote(fake)],
                  DATASET=str(folder), STORAGE_EMULATOR_HOST=storage.storage_emulator_host)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert "uploaded the schema of dataset 'shop' to gs://acme-taxi/datasets/shop" in result.stdout
    uploaded = tmp_path / 'gcs' / 'acme-taxi' / 'datasets' / 'shop' / 'schema.pbtxt'
    assert uploaded.read_text() == (folder / 'schema.pbtxt').read_text()
  finally:
    storage.stop()
