"""The tf.distribute strategy to train with, chosen from TrainConfig and the cluster (TF_CONFIG).

TF_CONFIG is read at the edge (`task.run_fn`) and handed in as text; the multi-worker strategy
gets the parsed cluster through a SimpleClusterResolver, so nothing here reads the environment.
"""

import dataclasses
import json
from typing import Dict, Optional, Tuple

from absl import logging
import tensorflow as tf

from trainer.config import TrainConfig

_WORKER_JOBS = ('chief', 'worker')


class AcceleratorNotFoundError(RuntimeError):
  """The strategy asked for a TPU or GPUs that this machine does not have."""


@dataclasses.dataclass(frozen=True)
class Cluster:
  """The parsed TF_CONFIG: the cluster's jobs and which task this process is."""
  jobs: Dict[str, Tuple[str, ...]] = dataclasses.field(default_factory=dict)
  task_type: Optional[str] = None
  task_id: int = 0

  def __post_init__(self):
    if self.jobs and self.task_type not in self.jobs:
      raise ValueError(f'TF_CONFIG task type {self.task_type!r} is not a job of the cluster '
                       f'{sorted(self.jobs)}')
    if self.jobs and not 0 <= self.task_id < len(self.jobs[self.task_type]):
      raise ValueError(f'TF_CONFIG task index {self.task_id} is out of range for job '
                       f'{self.task_type!r} of {len(self.jobs[self.task_type])} task(s)')

  @property
  def num_workers(self) -> int:
    return sum(len(self.jobs.get(job, ())) for job in _WORKER_JOBS)

  @property
  def is_chief(self) -> bool:
    """The chief writes the model: the 'chief' task, else worker 0, else a lone process."""
    if self.task_type == 'chief' or self.task_type is None:
      return True
    return self.task_type == 'worker' and self.task_id == 0 and 'chief' not in self.jobs


def parse_tf_config(text: Optional[str]) -> Cluster:
  """Parses TF_CONFIG ('' or None: no cluster, a single process)."""
  if not text:
    return Cluster()
  try:
    value = json.loads(text)
  except json.JSONDecodeError as error:
    raise ValueError(f'TF_CONFIG is not valid JSON ({error}): {text!r}') from None
  jobs = {job: tuple(addresses) for job, addresses in value.get('cluster', {}).items()}
  task = value.get('task', {})
  return Cluster(jobs=jobs, task_type=task.get('type'), task_id=int(task.get('index', 0)))


@dataclasses.dataclass(frozen=True)
class Distribution:
  """The strategy to train under, what kind it is and the cluster it spans."""
  strategy: tf.distribute.Strategy
  kind: str
  cluster: Cluster

  @property
  def num_replicas(self) -> int:
    return self.strategy.num_replicas_in_sync

  @property
  def is_chief(self) -> bool:
    return self.cluster.is_chief


def per_replica_batch_size(global_batch_size: int, num_replicas: int, name: str) -> int:
  """Splits a global batch evenly over the replicas; rejects a batch that does not divide."""
  if global_batch_size % num_replicas:
    raise ValueError(
        f'{name} {global_batch_size} does not divide across {num_replicas} replicas '
        f'({global_batch_size} % {num_replicas} = {global_batch_size % num_replicas}): use a '
        f'multiple of {num_replicas}')
  return global_batch_size // num_replicas


@dataclasses.dataclass(frozen=True)
class StandIns:
  """CPU stand-ins for accelerators a machine lacks, set only by the local engine
  (vertex_local, which runs a Vertex spec's GPU/TPU worker pools on this CPU machine).

  gpus: split the CPU into this many logical devices and use them where GPUs would be.
  tpu: when no TPU resolves, train with the default strategy instead of failing.
  """
  gpus: int = 0
  tpu: bool = False

  def __post_init__(self):
    if self.gpus < 0:
      raise ValueError(f'GPU stand-ins must be >= 0, got {self.gpus}')


def create(config: TrainConfig, cluster: Cluster, stand_ins: StandIns = StandIns()) -> \
    Distribution:
  """Builds the strategy config.strategy asks for; call it before any other TensorFlow op.

  Raises AcceleratorNotFoundError when 'tpu' or 'mirrored' finds no TPU or GPU, unless
  config.on_missing_accelerator is 'fallback' (then the default strategy, with a warning), or
  `stand_ins` says CPU devices stand in for the missing accelerator.
  """
  # Resolve a TPU first: 'auto' prefers one, and a TPU is only known by trying to resolve it.
  tpu_resolver, tpu_problem = (
      _resolve_tpu(config.tpu_name) if config.strategy in ('auto', 'tpu') else (None, ''))
  gpus = tf.config.list_physical_devices('GPU')
  devices = None  # None: MirroredStrategy takes every GPU.
  if stand_ins.gpus and not gpus:
    devices = _logical_cpus(stand_ins.gpus)
    gpus = devices
  kind = config.strategy
  if kind == 'tpu' and tpu_resolver is None and stand_ins.tpu:
    logging.warning('No TPU (%s): the local engine stands the default strategy on the CPU in '
                    'for it', tpu_problem)
    kind = 'default'

  if kind == 'auto':
    # Largest scale first: TPU, then several workers, then several local GPUs.
    kind = ('tpu' if tpu_resolver else 'multi_worker' if cluster.num_workers > 1 else
            'mirrored' if len(gpus) > 1 else 'default')

  missing = ''
  if kind == 'tpu' and tpu_resolver is None:
    missing = f"strategy 'tpu' asked for a TPU, but none was found ({tpu_problem})"
  if kind == 'mirrored' and not gpus:
    missing = "strategy 'mirrored' asked for GPUs, but none was found"
  if missing:
    devices = ', '.join(device.name for device in tf.config.list_physical_devices())
    if config.on_missing_accelerator == 'error':
      raise AcceleratorNotFoundError(
          f'{missing}; devices here: {devices}. Set on_missing_accelerator=\'fallback\' to '
          'train with the default strategy instead')
    logging.warning('%s; devices here: %s; on_missing_accelerator=fallback: training with '
                    'the default strategy', missing, devices)
    kind = 'default'
  if kind == 'multi_worker' and not cluster.num_workers:
    raise ValueError("strategy 'multi_worker' needs TF_CONFIG to describe the cluster, but "
                     'TF_CONFIG names no chief or worker tasks')

  strategy = _build(kind, cluster, tpu_resolver, devices)
  logging.info('Distribution strategy %s (%s requested): %d replica(s), task %s:%d, chief=%s',
               kind, config.strategy, strategy.num_replicas_in_sync, cluster.task_type,
               cluster.task_id, cluster.is_chief)
  return Distribution(strategy=strategy, kind=kind, cluster=cluster)


def _resolve_tpu(tpu_name: str):
  """(connected TPUClusterResolver, '') or (None, why no TPU was found)."""
  try:
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu_name or None)
  except ValueError as error:  # TPUClusterResolver's "no TPU named or discoverable".
    return None, str(error)
  try:
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
  except tf.errors.NotFoundError as error:  # Resolved (e.g. 'local') but no TPU device.
    return None, error.message.splitlines()[0]
  return resolver, ''


def _logical_cpus(count: int):
  """Splits the CPU into `count` logical devices (before TensorFlow initialises them)."""
  cpu = tf.config.list_physical_devices('CPU')[0]
  tf.config.set_logical_device_configuration(
      cpu, [tf.config.LogicalDeviceConfiguration()] * count)
  logging.warning('No GPU: %d logical CPU devices stand in for %d GPUs (local engine)', count,
                  count)
  return [f'/cpu:{i}' for i in range(count)]


def _build(kind: str, cluster: Cluster, tpu_resolver, devices=None) -> tf.distribute.Strategy:
  if kind == 'tpu':
    return tf.distribute.TPUStrategy(tpu_resolver)
  if kind == 'mirrored':
    return tf.distribute.MirroredStrategy(devices)
  if kind == 'multi_worker':
    resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
        tf.train.ClusterSpec({job: list(tasks) for job, tasks in cluster.jobs.items()}),
        task_type=cluster.task_type, task_id=cluster.task_id, rpc_layer='grpc')
    return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)
  return tf.distribute.get_strategy()
