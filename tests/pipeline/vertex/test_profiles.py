"""Profiles are validated at load, with errors naming the field and the bad value."""

import json
import os
import re
import subprocess
import sys


import pytest

import datadefs

from core.example_files import ExampleFilesConfig
from pipeline import environment
from pipeline import settings
from pipeline.environment import SettingsError
from pipeline.vertex import profiles
from pipeline.vertex.profiles import ProfileError, WorkerPool
from tests.conftest import REPO_ROOT

IDENTITY = {'GCP_PROJECT': 'acme-project', 'GCS_BUCKET': 'acme-taxi'}


def _load(name, environ, **overrides):
  """load_profile with the typed Environment the CLI reads from `environ`."""
  return profiles.load_profile(name, environment.read(environ), **overrides)


@pytest.mark.parametrize('name', profiles.PROFILE_NAMES)
def test_every_profile_loads(name):
  profile = _load(name, IDENTITY)
  assert profile.name == name
  assert profile.on_vertex == name.startswith('vertex-')


def test_identity_comes_from_the_environment():
  env = dict(IDENTITY, GCP_REGION='europe-west4', PIPELINE_LABELS='team=ml,env=prod',
             PIPELINE_SERVICE_ACCOUNT='p@acme-project.iam.gserviceaccount.com',
             CMEK_KEY='projects/acme-project/locations/europe-west4/keyRings/k/cryptoKeys/c')
  profile = _load('vertex-gpu', env)
  assert profile.region == 'europe-west4'
  assert profile.labels == {'team': 'ml', 'env': 'prod'}
  assert profile.pipeline_image == (
      'europe-west4-docker.pkg.dev/acme-project/taxi/taxi-pipeline:latest')
  assert profile.pipeline_root() == 'gs://acme-taxi/pipeline_root'


@pytest.mark.parametrize('env, overrides, message', [
    ({}, {}, 'project is missing (set GCP_PROJECT); bucket is missing (set GCS_BUCKET)'),
    (IDENTITY, {'trainer_pools': (WorkerPool('n1-standard-8', 'NVIDIA_K9000', 1),)},
     "trainer_pools[0].accelerator_type: unknown accelerator 'NVIDIA_K9000'"),
    (IDENTITY, {'trainer_pools': (WorkerPool('n1-standard-8', 'TPU_V3', 8),)},
     "trainer_pools[0]: TPU_V3 needs machine_type 'cloud-tpu', got 'n1-standard-8'"),
    (IDENTITY, {'trainer_pools': (WorkerPool('g2-standard-8', 'NVIDIA_TESLA_T4', 1),)},
     "NVIDIA_TESLA_T4 attaches to n1-* machines, not machine_type 'g2-standard-8'"),
    (IDENTITY, {'trainer_pools': (WorkerPool('n1-standard-8', 'NVIDIA_TESLA_T4', 3),)},
     'accelerator_count for NVIDIA_TESLA_T4 on n1-standard-8 must be 1, 2 or 4, got 3'),
    (IDENTITY, {'trainer_pools': (WorkerPool('cloud-tpu', 'TPU_V3', 8),), 'strategy': 'mirrored'},
     "strategy 'mirrored' cannot drive a TPU pool"),
    (IDENTITY, {'strategy': 'fastest'}, "strategy must be one of"),
    (IDENTITY, {'cmek_key': 'my-key'}, "cmek_key must be projects/P/locations/L/keyRings/R/"),
    (IDENTITY, {'labels': {'Team': 'ML'}}, "label Team='ML' is not a valid GCP label"),
    (dict(IDENTITY, GCS_BUCKET='gs://acme'), {}, "bucket must be a bucket name"),
    (IDENTITY, {'training': {'train_steps': 0}}, 'training: train_steps must be >= 1'),
    (IDENTITY, {'training': {'eval_steps': 5}},
     "training ['eval_steps'] are not training settings; known: ['train_steps', "
     "'tuner_trials', 'tuner_steps']"),
])
def test_bad_values_are_named(env, overrides, message):
  with pytest.raises(ProfileError) as error:
    _load('vertex-gpu', env, **overrides)
  assert message in str(error.value)
  assert str(error.value).startswith("profile 'vertex-gpu': ")


# The example files' layout is the run's (pipeline/settings.py), not the profile's: bad values
# are named by run_settings, before any profile loads.
@pytest.mark.parametrize('environ, message', [
    (dict(IDENTITY, NUM_SHARDS='-1'), 'NUM_SHARDS: num_shards must be a whole number >= 1'),
    (dict(IDENTITY, EXAMPLE_COMPRESSION='lz4'), 'EXAMPLE_COMPRESSION: compression must be'),
])
def test_bad_example_file_values_are_named(environ, message):
  with pytest.raises(SettingsError) as error:
    settings.run_settings(environment.read(environ))
  assert str(error.value).startswith(message)


def test_example_file_layout_comes_from_the_environment():
  def files(environ):
    return settings.run_settings(environment.read(environ)).data.example_files
  assert files(IDENTITY) == ExampleFilesConfig()
  assert files(dict(IDENTITY, NUM_SHARDS='64', EXAMPLE_COMPRESSION='none')) == (
      ExampleFilesConfig(64, 'none'))


def test_unknown_profile():
  with pytest.raises(ProfileError, match=r"unknown profile 'vertex-quantum'; known: \['local'"):
    _load('vertex-quantum', IDENTITY)


def test_multi_worker_pools_count_replicas():
  profile = _load('vertex-gpu', IDENTITY, strategy='multi_worker', trainer_pools=(
      WorkerPool('n1-standard-16', 'NVIDIA_TESLA_T4', 2),
      WorkerPool('n1-standard-16', 'NVIDIA_TESLA_T4', 2, replica_count=3)))
  assert profile.replicas == 4


def test_the_multiworker_profile_is_a_chief_and_one_worker_training_together():
  profile = _load('vertex-multiworker', IDENTITY)
  assert [pool.replica_count for pool in profile.trainer_pools] == [1, 1]
  assert profile.replicas == 2 and profile.strategy == 'multi_worker'
  assert profile.pipeline_name(datadefs.load('taxi')) == 'chicago-taxi-vertex-multiworker'


@pytest.mark.parametrize('overrides, message', [
    (dict(trainer_pools=(WorkerPool(replica_count=2),), strategy='multi_worker'),
     'trainer_pools[0] is the chief: Vertex AI runs exactly 1 replica of it (got 2)'),
    (dict(trainer_pools=(WorkerPool(), WorkerPool(replica_count=2)), strategy='mirrored'),
     "strategy 'mirrored' cannot train on 3 replicas"),
    (dict(challengers=True), 'challengers needs endpoint_name'),
    (dict(trainer_pools=(WorkerPool('n1-standard-7'),)),
     "trainer_pools[0].machine_type: 'n1-standard-7' is not a Vertex AI training machine type"),
])
def test_pools_vertex_refuses_are_refused_when_the_profile_loads(overrides, message):
  with pytest.raises(ProfileError, match=re.escape(message)):
    _load('vertex-cpu', IDENTITY, **overrides)


# Each accelerator of the catalogue (core/accelerators.py) on a machine type it comes on.
ACCEPTED = [
    WorkerPool('n1-standard-8', 'NVIDIA_TESLA_V100', 8),
    WorkerPool('n1-highmem-16', 'NVIDIA_TESLA_P100', 4),
    WorkerPool('n1-standard-4', 'NVIDIA_TESLA_P4', 1), WorkerPool('g2-standard-8', 'NVIDIA_L4', 1),
    WorkerPool('g2-standard-24', 'NVIDIA_L4', 2),
    WorkerPool('a2-highgpu-4g', 'NVIDIA_TESLA_A100', 4),
    WorkerPool('a2-megagpu-16g', 'NVIDIA_TESLA_A100', 16),
    WorkerPool('a2-ultragpu-2g', 'NVIDIA_A100_80GB', 2),
    WorkerPool('a3-highgpu-8g', 'NVIDIA_H100_80GB', 8),
    WorkerPool('a3-megagpu-8g', 'NVIDIA_H100_MEGA_80GB', 8),
    WorkerPool('a3-ultragpu-8g', 'NVIDIA_H200_141GB', 8), WorkerPool('cloud-tpu', 'TPU_V2', 8),
    WorkerPool('ct5lp-hightpu-1t', 'TPU_V5_LITEPOD', 1),
    WorkerPool('ct5lp-hightpu-8t', 'TPU_V5_LITEPOD', 8),
]


@pytest.mark.parametrize('pool', ACCEPTED, ids=lambda pool: pool.accelerator_type)
def test_catalogue_accelerators_on_their_machine_types(pool):
  profile = _load('vertex-gpu', IDENTITY, trainer_pools=(pool,), strategy='auto')
  assert profile.trainer_pools == (pool,)


@pytest.mark.parametrize('pool, message', [
    (WorkerPool('a3-highgpu-8g', 'NVIDIA_H200_141GB', 8),
     "NVIDIA_H200_141GB attaches to a3-ultragpu-* machines, not machine_type 'a3-highgpu-8g'"),
    (WorkerPool('a3-ultragpu-8g', 'NVIDIA_H100_MEGA_80GB', 8),
     "NVIDIA_H100_MEGA_80GB attaches to a3-megagpu-* machines, not machine_type 'a3-ultragpu-8g'"),
    (WorkerPool('a2-highgpu-1g', 'NVIDIA_A100_80GB', 1),
     "NVIDIA_A100_80GB attaches to a2-ultragpu-* machines, not machine_type 'a2-highgpu-1g'"),
    (WorkerPool('n1-standard-8', 'NVIDIA_L4', 1),
     "NVIDIA_L4 attaches to g2-standard-* machines, not machine_type 'n1-standard-8'"),
    (WorkerPool('n1-standard-8', 'NVIDIA_TESLA_A100', 1),
     'NVIDIA_TESLA_A100 attaches to a2-highgpu-* or a2-megagpu-* machines'),
    (WorkerPool('a3-highgpu-3g', 'NVIDIA_H100_80GB', 3),
     "machine_type 'a3-highgpu-3g' is not a Vertex AI machine type with NVIDIA_H100_80GB; known: "
     "['a3-highgpu-1g', 'a3-highgpu-2g', 'a3-highgpu-4g', 'a3-highgpu-8g']"),
    (WorkerPool('a3-megagpu-8g', 'NVIDIA_H100_MEGA_80GB', 4),
     'accelerator_count for NVIDIA_H100_MEGA_80GB on a3-megagpu-8g must be 8, got 4'),
    (WorkerPool('g2-standard-24', 'NVIDIA_L4', 1),
     'accelerator_count for NVIDIA_L4 on g2-standard-24 must be 2, got 1'),
    (WorkerPool('cloud-tpu', 'TPU_V5_LITEPOD', 8),
     "TPU_V5_LITEPOD needs machine_type 'ct5lp-hightpu-1t', 'ct5lp-hightpu-4t' or "
     "'ct5lp-hightpu-8t', got 'cloud-tpu'"),
    (WorkerPool('ct5lp-hightpu-8t', 'TPU_V3', 8), "TPU_V3 needs machine_type 'cloud-tpu', got"),
    (WorkerPool('ct5lp-hightpu-4t', 'TPU_V5_LITEPOD', 8),
     'accelerator_count for TPU_V5_LITEPOD on ct5lp-hightpu-4t must be 4, got 8'),
])
def test_catalogue_accelerators_on_wrong_machine_types(pool, message):
  with pytest.raises(ProfileError) as error:
    _load('vertex-gpu', IDENTITY, trainer_pools=(pool,), strategy='auto')
  assert 'trainer_pools[0]' in str(error.value) and message in str(error.value)


@pytest.mark.parametrize('pool, reason', [
    (WorkerPool('a4-highgpu-8g', 'NVIDIA_B200', 8),
     'NVIDIA_B200 cannot be used with the pipeline images: it is a Blackwell GPU (sm_100, '
     'a4-highgpu-8g), which needs CUDA 12.8+ and cuDNN 9.7+, and TensorFlow 2.16.2 is built for '
     'CUDA 12.3 / cuDNN 8.9'),
    (WorkerPool('a4x-highgpu-4g', 'NVIDIA_GB200', 4), 'NVIDIA_GB200 cannot be used'),
    (WorkerPool('g4-standard-48', 'NVIDIA_RTX_PRO_6000', 1),
     'NVIDIA_RTX_PRO_6000 cannot be used with the pipeline images: it is a Blackwell GPU (sm_120'),
    (WorkerPool('ct6e-standard-4t', 'TPU_V6E', 4),
     'TPU_V6E cannot be used with the pipeline images: it is TPU v6e (Trillium, '
     'ct6e-standard-*), which came after TensorFlow 2.16 and its libtpu 2.16'),
])
def test_accelerators_tensorflow_2_16_cannot_drive_are_refused_with_the_reason(pool, reason):
  with pytest.raises(ProfileError) as error:
    _load('vertex-gpu', IDENTITY, trainer_pools=(pool,), strategy='auto')
  assert f'trainer_pools[0].accelerator_type: {reason}' in str(error.value)
  assert 'instead' in str(error.value)  # says what to use


def test_each_pool_runs_the_image_for_its_accelerator():
  env = dict(IDENTITY, PIPELINE_IMAGE='europe-docker.pkg.dev/acme/taxi/taxi-pipeline:v7')
  images = {name: [_load(name, env).pool_image(pool)
                   for pool in _load(name, env).trainer_pools]
            for name in ('vertex-cpu', 'vertex-gpu', 'vertex-tpu')}
  assert images == {
      'vertex-cpu': ['europe-docker.pkg.dev/acme/taxi/taxi-pipeline:v7'],
      'vertex-gpu': ['europe-docker.pkg.dev/acme/taxi/taxi-pipeline-gpu:v7'],
      'vertex-tpu': ['europe-docker.pkg.dev/acme/taxi/taxi-pipeline-tpu:v7']}
  mixed = _load('vertex-gpu', env, strategy='multi_worker', trainer_pools=(
      WorkerPool('n1-standard-8'), WorkerPool('n1-standard-16', 'NVIDIA_TESLA_T4', 2)))
  assert [mixed.pool_image(pool) for pool in mixed.trainer_pools] == [
      'europe-docker.pkg.dev/acme/taxi/taxi-pipeline:v7',
      'europe-docker.pkg.dev/acme/taxi/taxi-pipeline-gpu:v7']


def test_accelerator_images_come_from_the_environment():
  env = dict(IDENTITY, PIPELINE_IMAGE='localhost:5000/taxi', PIPELINE_IMAGE_GPU='r/cuda:1',
             PIPELINE_IMAGE_TPU='r/tpu@sha256:abc')
  profile = _load('vertex-gpu', env)
  assert (profile.accelerator_image('gpu'), profile.accelerator_image('tpu')) == (
      'r/cuda:1', 'r/tpu@sha256:abc')
  untagged = _load('vertex-gpu', dict(IDENTITY, PIPELINE_IMAGE='localhost:5000/t'))
  assert untagged.accelerator_image('gpu') == 'localhost:5000/t-gpu'
  with pytest.raises(ProfileError, match=r"gpu_image cannot be derived from the digest-pinned "
                     r"image 'r/taxi@sha256:abc': set PIPELINE_IMAGE_GPU"):
    _load('vertex-gpu', dict(IDENTITY, PIPELINE_IMAGE='r/taxi@sha256:abc'))


def _profiles_file(tmp_path, text):
  path = tmp_path / 'profiles.toml'
  path.write_text(text)
  return {'GCP_PROJECT': 'p', 'GCS_BUCKET': 'my-bucket', 'PROFILES_FILE': str(path)}


def test_a_teams_own_profile_from_a_toml_file(tmp_path):
  environ = _profiles_file(tmp_path, '''
[a100]
base = "vertex-gpu"
training = { train_steps = 5000 }
trainer_pools = [{ machine_type = "a2-highgpu-2g", accelerator_type = "NVIDIA_TESLA_A100",
                   accelerator_count = 2 }]
resources = { Transform = { cpu = 8, memory_gib = 32 } }
''')
  profile = _load('a100', environ)
  assert profile.on_vertex and profile.strategy == 'mirrored'  # From its base.
  assert profile.training == {'train_steps': 5000}
  assert profile.trainer_pools == (profiles.WorkerPool('a2-highgpu-2g', 'NVIDIA_TESLA_A100', 2),)
  assert profile.resources == {'Transform': profiles.Resources(cpu=8, memory_gib=32)}
  # The built-in profiles are still there.
  assert _load('vertex-cpu', environ).trainer_pools == (profiles.WorkerPool(),)


@pytest.mark.parametrize('text, message', [
    ('[x]\nbase = "vertex-xl"\n', "base 'vertex-xl' is not a built-in profile"),
    ('[x]\nmachine = "n1"\n', "'machine' is not a profile field"),
    ('[x]\ntrainer_pools = [{ gpus = 2 }]\n', r"\[x\]: .*unexpected keyword argument 'gpus'"),
    ('[x]\ntrainer_pools = [{ machine_type = "n1-standard-4", accelerator_type = '
     '"NVIDIA_TESLA_A100", accelerator_count = 1 }]\n', 'NVIDIA_TESLA_A100 attaches to a2'),
    ('[X_1]\n', "profile name 'X_1' must be lower-case"),
    ('[x\n', 'not valid TOML'),
    # Training changes are a `training` table, checked as the run's training settings.
    ('[x]\ntrain_steps = 5000\n', "'train_steps' is not a profile field"),
    ('[x]\ntraining = { steps = 5 }\n', r"training \['steps'\] are not training settings"),
    ('[x]\ntraining = { tuner_trials = -1 }\n', 'training: tuner_trials must be >= 0, got -1'),
])
def test_bad_profile_files_are_named(tmp_path, text, message):
  environ = _profiles_file(tmp_path, text)
  name = 'X_1' if 'X_1' in text else 'x'
  with pytest.raises(profiles.ProfileError, match=message):
    _load(name, environ)


def test_a_profiles_training_changes_the_run_unless_the_environment_sets_it(tmp_path):
  environ = _profiles_file(tmp_path,
                           '[long]\ntraining = { train_steps = 2000, tuner_steps = 30 }\n')
  profile = _load('long', environ)
  run = settings.run_settings(environment.read(environ))
  changed = profile.run_settings(run, environment.read(environ))
  assert (changed.training.train_steps, changed.training.tuner_steps) == (2000, 30)
  assert changed.data == run.data
  pinned = environment.read(dict(environ, TRAIN_STEPS='7'))
  kept = profile.run_settings(settings.run_settings(pinned), pinned)
  assert (kept.training.train_steps, kept.training.tuner_steps) == (7, 30)


def _compiled_train_steps(tmp_path, environ):
  """The Trainer's train_args.num_steps in the spec `python -m pipeline compile` writes."""
  output = tmp_path / 'spec.json'
  env = {key: value for key, value in os.environ.items() if key != 'TRAIN_STEPS'}
  env.update(environ)
  result = subprocess.run([sys.executable, '-m', 'pipeline', 'compile', '--profile', 'long',
                           '--output', str(output)], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  trainer = json.loads(output.read_text())['pipelineSpec']['root']['dag']['tasks']['Trainer']
  train_args = trainer['inputs']['parameters']['train_args']['runtimeValue']['constantValue'][
      'stringValue']
  return json.loads(train_args).get('num_steps')


@pytest.mark.integration  # Compiles in a subprocess that imports TensorFlow.
@pytest.mark.parametrize('train_steps, expected', [(None, 2000), ('300', 300)])
def test_a_profile_files_train_steps_reach_the_compiled_trainer(tmp_path, train_steps, expected):
  """PROFILES_FILE's `training = { train_steps = 2000 }` is the Trainer's num_steps, unless
  TRAIN_STEPS is set: the environment wins."""
  environ = _profiles_file(tmp_path, '[long]\nbase = "vertex-cpu"\n'
                           'training = { train_steps = 2000 }\n')
  if train_steps is not None:
    environ['TRAIN_STEPS'] = train_steps
  assert _compiled_train_steps(tmp_path, environ) == expected
