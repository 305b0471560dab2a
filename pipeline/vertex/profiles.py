"""Deployment profiles: `local`, `vertex-cpu`, `vertex-gpu`, `vertex-tpu`, `vertex-multiworker`,
each a small override
of one default: the Vertex engine's own settings (pipeline/settings.py holds what every engine
shares). The deployment identity (project, bucket, image, service account, ...) comes from the
environment at the edge (`load_profile`); everything is validated when the profile loads, with
errors that name the field and the bad value."""

import dataclasses
import re
from typing import Any, Dict, Mapping, Optional, Tuple

from core.home import PipelineHome
from core.names import STRATEGIES
from datadefs.definition import Dataset
from pipeline.environment import Environment
from pipeline.settings import RunSettings, TrainingSettings
from pipeline.vertex import profile_files
from core.accelerators import (GPU_MACHINE_COUNTS, GPU_MACHINE_PREFIXES, N1_GPU_COUNTS, TPU_MACHINES,
                               UNSUPPORTED_ACCELERATORS, known_machine_type, similar_machine_types)
from pipeline.vertex.settings import InvalidSettingError, check_field

# The image name a `local` profile spec carries (the local engine stands the venv in for it).
LOCAL_IMAGE = 'taxi-pipeline:local'
# What a profile may change of the run's training (pipeline/settings.py TrainingSettings).
_TRAINING_FIELDS = ('train_steps', 'tuner_trials', 'tuner_steps')


def _either(values) -> str:
  *rest, last = map(str, values)  # [1, 2, 4] -> '1, 2 or 4'
  return f'{", ".join(rest)} or {last}' if rest else last


class ProfileError(ValueError):
  """A profile field has a bad value; the message names the profile, field and value."""


def _valid(rule: str, value: str) -> bool:
  try:
    check_field(rule, value)
  except InvalidSettingError:
    return False
  return True


def _local(home: Optional[PipelineHome]) -> PipelineHome:
  if home is None:
    raise ProfileError('the local profile compiles local paths: it needs the pipeline home')
  return home


@dataclasses.dataclass(frozen=True)
class WorkerPool:
  """One Vertex AI worker pool of the Trainer's custom job."""
  machine_type: str = 'n1-standard-8'
  accelerator_type: Optional[str] = None
  accelerator_count: int = 0
  replica_count: int = 1

  def problems(self, where: str) -> Tuple[str, ...]:
    found = []
    kind = self.accelerator_type
    if self.replica_count < 1:
      found.append(f'{where}.replica_count must be >= 1, got {self.replica_count}')
    if kind is None:
      if not known_machine_type(self.machine_type):
        found.append(f'{where}.machine_type: {self.machine_type!r} is not a Vertex AI training '
                     f'machine type; known of its kind: '
                     f'{list(similar_machine_types(self.machine_type))}')
      if self.accelerator_count:
        found.append(f'{where}.accelerator_count is {self.accelerator_count} with no '
                     'accelerator_type')
    elif kind in UNSUPPORTED_ACCELERATORS:
      found.append(f'{where}.accelerator_type: {kind} cannot be used with the pipeline images: '
                   f'it is {UNSUPPORTED_ACCELERATORS[kind]}')
    elif kind in GPU_MACHINE_PREFIXES:
      found += self._gpu_problems(where, kind)
    elif kind in TPU_MACHINES:
      machines = TPU_MACHINES[kind]
      if self.machine_type not in machines:
        found.append(f'{where}: {kind} needs machine_type {_either(map(repr, machines))}, got '
                     f'{self.machine_type!r}')
      elif self.accelerator_count not in machines[self.machine_type]:
        found.append(f'{where}.accelerator_count for {kind} on {self.machine_type} must be '
                     f'{_either(machines[self.machine_type])}, got {self.accelerator_count}')
    else:
      known = sorted(GPU_MACHINE_PREFIXES) + sorted(TPU_MACHINES)
      found.append(f'{where}.accelerator_type: unknown accelerator {kind!r}; known: {known}')
    return tuple(found)

  def _gpu_problems(self, where: str, kind: str) -> Tuple[str, ...]:
    machine, count = self.machine_type, self.accelerator_count
    if not machine.startswith(GPU_MACHINE_PREFIXES[kind]):
      prefixes = _either(f'{prefix}*' for prefix in GPU_MACHINE_PREFIXES[kind])
      return (f'{where}: {kind} attaches to {prefixes} machines, not machine_type {machine!r}',)
    if kind in N1_GPU_COUNTS:
      allowed = N1_GPU_COUNTS[kind]
    elif machine in GPU_MACHINE_COUNTS:
      allowed = (GPU_MACHINE_COUNTS[machine],)
    else:
      known = sorted(m for m in GPU_MACHINE_COUNTS if m.startswith(GPU_MACHINE_PREFIXES[kind]))
      return (f'{where}: machine_type {machine!r} is not a Vertex AI machine type with {kind}; '
              f'known: {known}',)
    if count not in allowed:
      return (f'{where}.accelerator_count for {kind} on {machine} must be {_either(allowed)}, '
              f'got {count}',)
    return ()

  @property
  def accelerator(self) -> str:
    """'gpu', 'tpu' or 'cpu': which pipeline image the pool runs (infra/Dockerfile ACCELERATOR)."""
    if self.accelerator_type in TPU_MACHINES:
      return 'tpu'
    return 'gpu' if self.accelerator_type in GPU_MACHINE_PREFIXES else 'cpu'

  def to_spec(self, image: str) -> dict:
    machine_spec = {'machine_type': self.machine_type}
    if self.accelerator_type:
      machine_spec.update(accelerator_type=self.accelerator_type,
                          accelerator_count=self.accelerator_count)
    return {'machine_spec': machine_spec, 'replica_count': self.replica_count,
            'container_spec': {'image_uri': image}}


@dataclasses.dataclass(frozen=True)
class Resources:
  """CPU and memory limits of one pipeline step's container on Vertex."""
  cpu: float
  memory_gib: float


@dataclasses.dataclass(frozen=True)
class Profile:
  name: str
  on_vertex: bool = False
  project: Optional[str] = None
  region: str = 'us-central1'
  bucket: Optional[str] = None
  image: Optional[str] = None  # Default: the Artifact Registry repo infra/terraform creates.
  # Trainer pools with GPUs / TPUs run these images (infra/Dockerfile, ACCELERATOR=gpu|tpu).
  # Default: the pipeline image's name + '-gpu' / '-tpu', same tag (see accelerator_image).
  gpu_image: Optional[str] = None
  tpu_image: Optional[str] = None
  service_account: Optional[str] = None  # Runs the pipeline (and Dataflow workers).
  training_service_account: Optional[str] = None  # Runs the Trainer's job; default: the above.
  network: Optional[str] = None
  cmek_key: Optional[str] = None
  labels: Mapping[str, str] = dataclasses.field(default_factory=lambda: {'app': 'taxi-pipeline'})
  # Beam: DirectRunner locally (core/beam_args.LOCAL_BEAM_ARGS), Dataflow on Vertex.
  dataflow_machine_type: str = 'n1-standard-4'
  dataflow_max_workers: int = 4
  # Trainer: worker pools (chief first; a second pool holds the other workers) and strategy.
  trainer_pools: Tuple[WorkerPool, ...] = (WorkerPool(),)
  strategy: str = 'auto'
  # Changes to the run's training for this profile ({'train_steps': 2000, 'tuner_trials': 4,
  # 'tuner_steps': 300}); TRAIN_STEPS/TUNER_* in the environment win. On Vertex the Tuner's
  # trials run as jobs on trainer_pools.
  training: Mapping[str, int] = dataclasses.field(default_factory=dict)
  resources: Mapping[str, Resources] = dataclasses.field(default_factory=lambda: {
      'Transform': Resources(cpu=4, memory_gib=16), 'Evaluator': Resources(cpu=4, memory_gib=16),
      'StatisticsGen': Resources(cpu=2, memory_gib=8)})
  # Pusher: to Vertex Model Registry (and an endpoint) when set; otherwise to the bucket.
  endpoint_name: Optional[str] = None
  serving_machine_type: str = 'n1-standard-4'
  # Push a model the Evaluator did not bless too, as the registry model's `challenger` version
  # (not deployed): components/vertex_pusher.py. Needs endpoint_name.
  challengers: bool = False
  # After the Pusher, TFX's BulkInferrer predicts the eval split with the blessed model.
  bulk_inference: bool = False

  def __post_init__(self):
    problems = []
    if self.on_vertex:
      for field in ('project', 'bucket'):
        if not getattr(self, field):
          env = {'project': 'GCP_PROJECT', 'bucket': 'GCS_BUCKET'}[field]
          problems.append(f'{field} is missing (set {env})')
    if self.bucket and not re.match(r'^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$', self.bucket):
      problems.append(f'bucket must be a bucket name like "my-bucket", got {self.bucket!r}')
    if self.cmek_key and not _valid('encryption_key', self.cmek_key):
      problems.append('cmek_key must be projects/P/locations/L/keyRings/R/cryptoKeys/K, got '
                      f'{self.cmek_key!r}')
    for field in ('service_account', 'training_service_account'):
      account = getattr(self, field)
      if account and not account.endswith('.gserviceaccount.com'):
        problems.append(f'{field} must be an email ending .gserviceaccount.com, got {account!r}')
    for key, value in self.labels.items():
      if not _valid('label key', key) or not _valid('label value', value):
        problems.append(f'label {key}={value!r} is not a valid GCP label')
    if self.strategy not in STRATEGIES:
      problems.append(f'strategy must be one of {STRATEGIES}, got {self.strategy!r}')
    if not self.trainer_pools or len(self.trainer_pools) > 2:
      problems.append(f'trainer_pools needs 1 or 2 pools, got {len(self.trainer_pools)}')
    elif self.trainer_pools[0].replica_count != 1:
      problems.append('trainer_pools[0] is the chief: Vertex AI runs exactly 1 replica of it '
                      f'(got {self.trainer_pools[0].replica_count}); put more workers in a '
                      'second pool')
    if self.replicas > 1 and self.strategy not in ('auto', 'multi_worker'):
      problems.append(f'strategy {self.strategy!r} cannot train on {self.replicas} replicas: use '
                      '"multi_worker" (or "auto")')
    if self.challengers and not self.endpoint_name:
      problems.append('challengers needs endpoint_name (VERTEX_ENDPOINT_NAME): challengers are '
                      'versions in the Vertex Model Registry, where the Pusher pushes then')
    for i, pool in enumerate(self.trainer_pools):
      problems += pool.problems(f'trainer_pools[{i}]')
    if any(p.accelerator == 'tpu' for p in self.trainer_pools) and self.strategy not in (
        'auto', 'tpu'):
      problems.append(f'strategy {self.strategy!r} cannot drive a TPU pool: use "tpu" or "auto"')
    unknown = sorted(set(self.training) - set(_TRAINING_FIELDS))
    if unknown:
      problems.append(f'training {unknown} are not training settings; known: '
                      f'{list(_TRAINING_FIELDS)}')
    else:
      try:
        TrainingSettings(**self.training)
      except ValueError as error:
        problems.append(f'training: {error}')
    for accelerator in sorted({pool.accelerator for pool in self.trainer_pools} - {'cpu'}):
      if not getattr(self, f'{accelerator}_image') and '@' in self.pipeline_image:
        problems.append(f'{accelerator}_image cannot be derived from the digest-pinned image '
                        f'{self.pipeline_image!r}: set PIPELINE_IMAGE_{accelerator.upper()}')
    if problems:
      raise ProfileError(f'profile {self.name!r}: ' + '; '.join(problems))

  @property
  def pipeline_image(self) -> str:
    # The Artifact Registry repository and image name infra/terraform and cloudbuild.yaml use.
    if not self.on_vertex:
      return self.image or LOCAL_IMAGE
    return self.image or f'{self.region}-docker.pkg.dev/{self.project}/taxi/taxi-pipeline:latest'

  def accelerator_image(self, accelerator: str) -> str:
    """The image 'cpu'/'gpu'/'tpu' pools run: gpu_image/tpu_image, else the pipeline image's name
    + '-gpu'/'-tpu' with its tag (.../taxi-pipeline-gpu:TAG, as infra/cloudbuild.yaml pushes)."""
    image = {'cpu': self.pipeline_image, 'gpu': self.gpu_image, 'tpu': self.tpu_image}[accelerator]
    if image:
      return image
    name, sep, tag = self.pipeline_image.rpartition(':')
    if not sep or '/' in tag:  # No tag (a ':' in the registry's port only).
      name, sep, tag = self.pipeline_image, '', ''
    return f'{name}-{accelerator}{sep}{tag}'

  def pool_image(self, pool: WorkerPool) -> str:
    return self.accelerator_image(pool.accelerator)

  # The `local` profile compiles a spec with local paths that the local engine
  # (`make run ENGINE=vertex-local PROFILE=local`) runs as it is: PIPELINE_HOME and DATA_ROOT.
  def pipeline_root(self, home: Optional[PipelineHome] = None) -> str:
    if not self.on_vertex:
      return f'{_local(home).vertex_local}/pipeline_root'
    return f'gs://{self.bucket}/pipeline_root'

  def data_root(self, run: RunSettings) -> Optional[str]:
    """Where the ExampleGen reads: the bucket's data/<dataset> folder on Vertex, DATA_ROOT (or
    the dataset's own data) for `local`; None when a BigQuery query is the source."""
    if run.data.bigquery_query:
      return None
    if not self.on_vertex:
      return run.data.local_data_root()
    return f'gs://{self.bucket}/data/{run.dataset.name}'

  def serving_model_dir(self, home: Optional[PipelineHome] = None) -> str:
    if not self.on_vertex:
      return f'{_local(home).root}/serving_model'
    return f'gs://{self.bucket}/serving_model'

  def run_settings(self, run: RunSettings, environment: Environment) -> RunSettings:
    """The run's settings with this profile's training changes, where the environment sets
    none."""
    changes = {name: value for name, value in self.training.items()
               if getattr(environment, name) is None}
    if not changes:
      return run
    return dataclasses.replace(run, training=dataclasses.replace(run.training, **changes))

  def pipeline_name(self, dataset: Dataset) -> str:
    """vertex-cpu keeps the dataset's pipeline name; other profiles add their own name."""
    name = dataset.pipeline_name
    return name if self.name == 'vertex-cpu' else f'{name}-{self.name}'

  @property
  def replicas(self) -> int:
    return sum(pool.replica_count for pool in self.trainer_pools)


_DEFAULT = Profile(name='default')
_PROFILE_OVERRIDES: Dict[str, dict] = {
    'local': {},
    'vertex-cpu': {'on_vertex': True},
    'vertex-gpu': {'on_vertex': True, 'strategy': 'mirrored', 'trainer_pools': (
        WorkerPool('n1-standard-16', 'NVIDIA_TESLA_T4', 2),)},
    'vertex-tpu': {'on_vertex': True, 'strategy': 'tpu', 'trainer_pools': (
        WorkerPool('cloud-tpu', 'TPU_V3', 8),)},
    # Two machines train together (MultiWorkerMirroredStrategy): the chief's pool (Vertex runs
    # exactly one replica of pool 0) and a workers' pool of one; each gets TF_CONFIG.
    'vertex-multiworker': {'on_vertex': True, 'strategy': 'multi_worker', 'trainer_pools': (
        WorkerPool('n1-standard-8'), WorkerPool('n1-standard-8', replica_count=1))},
}
PROFILE_NAMES = tuple(_PROFILE_OVERRIDES)

# Environment (pipeline/environment.py) field -> profile field: the deployment identity.
_IDENTITY = {
    'gcp_project': 'project', 'gcp_region': 'region', 'gcs_bucket': 'bucket',
    'pipeline_image': 'image', 'pipeline_image_gpu': 'gpu_image',
    'pipeline_image_tpu': 'tpu_image', 'pipeline_service_account': 'service_account',
    'training_service_account': 'training_service_account', 'vpc_network': 'network',
    'cmek_key': 'cmek_key', 'vertex_endpoint_name': 'endpoint_name',
}


EXAMPLE_PROJECT, EXAMPLE_BUCKET = 'example-project', 'example-project-taxi'


def load_profile(name: str, environment: Environment, example_identity: bool = False,
                 **overrides: Any) -> Profile:
  """The named profile (built in, or from the PROFILES_FILE TOML) with the environment's
  identity fields and `overrides` applied. With `example_identity`, a profile on Vertex that the
  environment gives no project and no bucket gets an example one (to compile, say)."""
  path = environment.profiles_file
  try:
    user = profile_files.read(path) if path else {}
    if name in user:
      values = profile_files.overrides(path, name, user[name], Profile, WorkerPool, Resources,
                                       _PROFILE_OVERRIDES)
  except profile_files.ProfileFileError as error:
    raise ProfileError(str(error)) from None
  if name not in user:
    if name not in _PROFILE_OVERRIDES:
      raise ProfileError(f'unknown profile {name!r}; known: {sorted([*_PROFILE_OVERRIDES, *user])}'
                         f'{"" if user else " (add your own with PROFILES_FILE=file.toml)"}')
    values = dict(_PROFILE_OVERRIDES[name])
  values['name'] = name
  values.update({field: getattr(environment, variable) for variable, field in _IDENTITY.items()
                 if getattr(environment, variable)})
  if environment.pipeline_labels:
    values['labels'] = _parse_labels(environment.pipeline_labels)
  if (example_identity and values.get('on_vertex') and not environment.gcp_project and
      not environment.gcs_bucket):
    values.update(project=EXAMPLE_PROJECT, bucket=EXAMPLE_BUCKET)
  values.update(overrides)
  return dataclasses.replace(_DEFAULT, **values)


def _parse_labels(text: str) -> Dict[str, str]:
  """'team=ml,env=prod' -> {'team': 'ml', 'env': 'prod'}."""
  labels = {}
  for item in filter(None, text.split(',')):
    key, sep, value = item.partition('=')
    if not sep:
      raise ProfileError(f'PIPELINE_LABELS item {item!r} is not key=value')
    labels[key.strip()] = value.strip()
  return labels
