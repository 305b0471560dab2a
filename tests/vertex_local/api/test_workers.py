"""The environment Vertex AI gives each replica, and the default local launcher."""

import json
import sys

import pytest
from google.cloud.aiplatform_v1.types import custom_job as custom_job_types

from vertex_local.api import launch_locally
from vertex_local.api.workers import LaunchError, ReplicaSpec, exit_message, replica_specs


def _pool(replicas: int, command=('python', '-c', 'pass')) -> dict:
  return {'replica_count': replicas, 'machine_spec': {'machine_type': 'n1-standard-4'},
          'container_spec': {'image_uri': 'gcr.io/acme/trainer', 'command': list(command),
                             'args': ['--flag'], 'env': [{'name': 'MODE', 'value': 'fast'}]}}


def _job(*pools, output: str = '') -> custom_job_types.CustomJob:
  job = custom_job_types.CustomJob(
      name='projects/p/locations/us-central1/customJobs/42', display_name='train',
      job_spec={'worker_pool_specs': list(pools)})
  if output:
    job.job_spec.base_output_directory.output_uri_prefix = output
  return job


def test_every_replica_gets_its_place_in_the_cluster(tmp_path):
  job = _job(_pool(1), _pool(2), _pool(1), _pool(1), output='gs://acme/out')
  specs = replica_specs(job, {'GOOGLE_CLOUD_PROJECT': 'p'}, tmp_path)

  assert [spec.replica_name for spec in specs] == [
      'workerpool0-0', 'workerpool1-0', 'workerpool1-1', 'workerpool2-0', 'workerpool3-0']
  configs = [json.loads(spec.env['TF_CONFIG']) for spec in specs]
  assert [config['task'] for config in configs] == [
      {'type': 'chief', 'index': 0}, {'type': 'worker', 'index': 0},
      {'type': 'worker', 'index': 1}, {'type': 'ps', 'index': 0},
      {'type': 'evaluator', 'index': 0}]
  cluster = configs[0]['cluster']
  assert sorted(cluster) == ['chief', 'ps', 'worker']  # evaluators are not in the cluster
  assert all(config['cluster'] == cluster for config in configs)
  cluster_spec = json.loads(specs[4].env['CLUSTER_SPEC'])
  assert cluster_spec['task'] == {'type': 'workerpool3', 'index': 0}
  assert sorted(cluster_spec['cluster']) == ['workerpool0', 'workerpool1', 'workerpool2',
                                             'workerpool3']
  addresses = [address for hosts in cluster_spec['cluster'].values() for address in hosts]
  assert len(set(addresses)) == 5

  spec = specs[1]
  assert spec.env['MODE'] == 'fast' and spec.env['GOOGLE_CLOUD_PROJECT'] == 'p'
  assert spec.env['CLOUD_ML_JOB_ID'] == '42'
  assert spec.env['AIP_MODEL_DIR'] == 'gs://acme/out/model/'
  assert spec.env['AIP_CHECKPOINT_DIR'] == 'gs://acme/out/checkpoints/'
  assert spec.argv == ['python', '-c', 'pass', '--flag']
  assert spec.container_spec['image_uri'] == 'gcr.io/acme/trainer'
  assert spec.machine_spec == {'machine_type': 'n1-standard-4'}
  assert spec.log_path == tmp_path / 'workerpool1-0.log'


def test_a_single_replica_gets_a_cluster_spec_but_no_tf_config(tmp_path):
  [spec] = replica_specs(_job(_pool(1), {}), {}, tmp_path)  # an empty pool is skipped
  assert 'TF_CONFIG' not in spec.env and 'AIP_MODEL_DIR' not in spec.env
  assert json.loads(spec.env['CLUSTER_SPEC'])['task'] == {'type': 'workerpool0', 'index': 0}


def test_the_default_launcher_runs_python_here_and_logs_to_the_replica_log(tmp_path, monkeypatch):
  monkeypatch.setenv('TF_CONFIG', '{"stale": true}')
  [spec] = replica_specs(_job(_pool(1, ['python', '-c', (
      'import os, sys; print(sys.executable); print(os.environ.get("TF_CONFIG")); '
      'print(sys.argv[1:]); sys.exit(4)')])), {}, tmp_path)
  process = launch_locally(spec)
  assert process.wait(30) == 4
  assert spec.log_path.read_text().splitlines() == [sys.executable, 'None', "['--flag']"]
  message = exit_message(spec, 4)
  assert message.startswith('The replica workerpool0-0 exited with a non-zero status of 4.')
  assert str(spec.log_path) in message and "['--flag']" in message


def test_a_replica_without_a_command_is_a_clear_launch_error(tmp_path):
  spec = ReplicaSpec(job_name='projects/p/locations/l/customJobs/7', display_name='j',
                     pool_index=0, replica_index=0, container_spec={'image_uri': 'gcr.io/a/b'},
                     machine_spec={}, env={}, log_path=tmp_path / 'log')
  with pytest.raises(LaunchError, match="no container_spec.command.*'gcr.io/a/b'"):
    launch_locally(spec)
