"""Profiles are validated at load, with errors naming the field and the bad value."""

import pytest

from components.example_files import ExampleFilesConfig
from pipeline import profiles
from pipeline.profiles import ProfileError, WorkerPool

IDENTITY = {'GCP_PROJECT': 'acme-project', 'GCS_BUCKET': 'acme-taxi'}


@pytest.mark.parametrize('name', profiles.PROFILE_NAMES)
def test_every_profile_loads(name):
  profile = profiles.load_profile(name, IDENTITY)
  assert profile.name == name
  assert profile.on_vertex == name.startswith('vertex-')


def test_identity_comes_from_the_environment():
  env = dict(IDENTITY, GCP_REGION='europe-west4', PIPELINE_LABELS='team=ml,env=prod',
             PIPELINE_SERVICE_ACCOUNT='p@acme-project.iam.gserviceaccount.com',
             CMEK_KEY='projects/acme-project/locations/europe-west4/keyRings/k/cryptoKeys/c')
  profile = profiles.load_profile('vertex-gpu', env)
  assert profile.region == 'europe-west4'
  assert profile.labels == {'team': 'ml', 'env': 'prod'}
  assert profile.pipeline_image == (
      'europe-west4-docker.pkg.dev/acme-project/taxi/taxi-pipeline:latest')
  assert profile.pipeline_root == 'gs://acme-taxi/pipeline_root'


@pytest.mark.parametrize('env, overrides, message', [
    ({}, {}, 'project is missing (set GCP_PROJECT); bucket is missing (set GCS_BUCKET)'),
    (IDENTITY, {'trainer_pools': (WorkerPool('n1-standard-8', 'NVIDIA_K9000', 1),)},
     "trainer_pools[0].accelerator_type: unknown accelerator 'NVIDIA_K9000'"),
    (IDENTITY, {'trainer_pools': (WorkerPool('n1-standard-8', 'TPU_V3', 8),)},
     "trainer_pools[0]: TPU_V3 needs machine_type 'cloud-tpu', got 'n1-standard-8'"),
    (IDENTITY, {'trainer_pools': (WorkerPool('g2-standard-8', 'NVIDIA_TESLA_T4', 1),)},
     "NVIDIA_TESLA_T4 attaches to n1-* machines, not machine_type 'g2-standard-8'"),
    (IDENTITY, {'trainer_pools': (WorkerPool('n1-standard-8', 'NVIDIA_TESLA_T4', 3),)},
     'accelerator_count must be 1, 2, 4, 8 or 16 for a GPU, got 3'),
    (IDENTITY, {'trainer_pools': (WorkerPool('cloud-tpu', 'TPU_V3', 8),), 'strategy': 'mirrored'},
     "strategy 'mirrored' cannot drive a TPU pool"),
    (IDENTITY, {'strategy': 'fastest'}, "strategy must be one of"),
    (IDENTITY, {'cmek_key': 'my-key'}, "cmek_key must be projects/P/locations/L/keyRings/R/"),
    (IDENTITY, {'labels': {'Team': 'ML'}}, "label Team='ML' is not a valid GCP label"),
    (dict(IDENTITY, GCS_BUCKET='gs://acme'), {}, "bucket must be a bucket name"),
    (dict(IDENTITY, NUM_SHARDS='-1'), {}, 'NUM_SHARDS: num_shards must be a whole number >= 1'),
    (dict(IDENTITY, EXAMPLE_COMPRESSION='lz4'), {}, "EXAMPLE_COMPRESSION: compression must be"),
])
def test_bad_values_are_named(env, overrides, message):
  with pytest.raises(ProfileError) as error:
    profiles.load_profile('vertex-gpu', env, **overrides)
  assert message in str(error.value)
  assert str(error.value).startswith("profile 'vertex-gpu': ")


def test_example_file_layout_comes_from_the_environment():
  assert profiles.load_profile('vertex-cpu', IDENTITY).example_files == ExampleFilesConfig()
  profile = profiles.load_profile('vertex-cpu', dict(IDENTITY, NUM_SHARDS='64',
                                                     EXAMPLE_COMPRESSION='none'))
  assert profile.example_files == ExampleFilesConfig(64, 'none')


def test_unknown_profile():
  with pytest.raises(ProfileError, match=r"unknown profile 'vertex-quantum'; known: \['local'"):
    profiles.load_profile('vertex-quantum', IDENTITY)


def test_multi_worker_pools_count_replicas():
  profile = profiles.load_profile('vertex-gpu', IDENTITY, trainer_pools=(
      WorkerPool('n1-standard-16', 'NVIDIA_TESLA_T4', 2),
      WorkerPool('n1-standard-16', 'NVIDIA_TESLA_T4', 2, replica_count=3)))
  assert profile.replicas == 4
