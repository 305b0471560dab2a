"""Deployment profiles: `local`, `vertex-cpu`, `vertex-gpu`, `vertex-tpu`, each a small override
of one default. The deployment identity (project, bucket, image, service account, ...) comes from
the environment at the edge (`load_profile`); everything is validated when the profile loads,
with errors that name the field and the bad value."""

import dataclasses
import re
from pathlib import Path
from typing import Dict, Mapping, Optional, Tuple

from components.example_files import ExampleFilesConfig
from pipeline.vertex.accelerators import (GPU_MACHINE_COUNTS, GPU_MACHINE_PREFIXES, N1_GPU_COUNTS,
                                   TPU_MACHINES, UNSUPPORTED_ACCELERATORS)
import datasets
from datasets.definition import Dataset
from pipeline.local.config import example_files_from_env
from pipeline.vertex import profile_files

# The image name a `local` profile spec carries (the local engine stands the venv in for it).
LOCAL_IMAGE = 'taxi-pipeline:local'

STRATEGIES = ('auto', 'default', 'mirrored', 'multi_worker', 'tpu')
_LABEL = re.compile(r'^[a-z][a-z0-9_-]{0,62}$')
_CMEK = re.compile(r'^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$')


def _either(values) -> str:
  *rest, last = map(str, values)  # [1, 2, 4] -> '1, 2 or 4'
  return f'{", ".join(rest)} or {last}' if rest else last


class ProfileError(ValueError):
  """A profile field has a bad value; the message names the profile, field and value."""


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
  # What is trained (DATASET: a bundled name or a folder; default taxi).
  dataset: Dataset = dataclasses.field(default_factory=datasets.load)
  # Examples from CSV files under gs://<bucket>/data/<dataset> (optionally span folders), or
  # from a BigQuery query (set BIGQUERY_QUERY).
  input_pattern: Optional[str] = None
  bigquery_query: Optional[str] = None
  # Shards per split and compression of ExampleGen's and Transform's files (NUM_SHARDS,
  # EXAMPLE_COMPRESSION). On Dataflow the writers usually make more files than num_shards.
  example_files: ExampleFilesConfig = ExampleFilesConfig()
  # Beam: DirectRunner locally (pipeline/config.LOCAL_BEAM_ARGS), Dataflow on Vertex.
  dataflow_machine_type: str = 'n1-standard-4'
  dataflow_max_workers: int = 4
  # Trainer: worker pools (chief first; a second pool holds the other workers) and strategy.
  trainer_pools: Tuple[WorkerPool, ...] = (WorkerPool(),)
  strategy: str = 'auto'
  # None: the dataset's train_steps, else chosen from the row count when training starts.
  train_steps: Optional[int] = None
  # The Tuner (TUNER_TRIALS; 0: none): on Vertex its trials run as jobs on trainer_pools.
  tuner_trials: int = 0
  tuner_steps: Optional[int] = None
  resources: Mapping[str, Resources] = dataclasses.field(default_factory=lambda: {
      'Transform': Resources(cpu=4, memory_gib=16), 'Evaluator': Resources(cpu=4, memory_gib=16),
      'StatisticsGen': Resources(cpu=2, memory_gib=8)})
  # Pusher: to Vertex Model Registry (and an endpoint) when set; otherwise to the bucket.
  endpoint_name: Optional[str] = None
  # `local` profile only: absolute paths the compiled spec reads and writes (PIPELINE_HOME,
  # DATA_ROOT; set by load_profile).
  local_home: str = ''
  local_data_root: str = ''
  serving_machine_type: str = 'n1-standard-4'

  def __post_init__(self):
    problems = []
    if self.on_vertex:
      for field in ('project', 'bucket'):
        if not getattr(self, field):
          env = {'project': 'GCP_PROJECT', 'bucket': 'GCS_BUCKET'}[field]
          problems.append(f'{field} is missing (set {env})')
    if self.bucket and not re.match(r'^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$', self.bucket):
      problems.append(f'bucket must be a bucket name like "my-bucket", got {self.bucket!r}')
    if self.cmek_key and not _CMEK.match(self.cmek_key):
      problems.append('cmek_key must be projects/P/locations/L/keyRings/R/cryptoKeys/K, got '
                      f'{self.cmek_key!r}')
    for field in ('service_account', 'training_service_account'):
      account = getattr(self, field)
      if account and not account.endswith('.gserviceaccount.com'):
        problems.append(f'{field} must be an email ending .gserviceaccount.com, got {account!r}')
    for key, value in self.labels.items():
      if not _LABEL.match(key) or not re.match(r'^[a-z0-9_-]{0,63}$', value):
        problems.append(f'label {key}={value!r} is not a valid GCP label')
    if self.bigquery_query is not None and not self.bigquery_query.strip().upper().startswith(
        ('SELECT', 'WITH')):
      problems.append(f'bigquery_query must be a SELECT query, got {self.bigquery_query!r}')
    if self.strategy not in STRATEGIES:
      problems.append(f'strategy must be one of {STRATEGIES}, got {self.strategy!r}')
    if not self.trainer_pools or len(self.trainer_pools) > 2:
      problems.append(f'trainer_pools needs 1 or 2 pools, got {len(self.trainer_pools)}')
    for i, pool in enumerate(self.trainer_pools):
      problems += pool.problems(f'trainer_pools[{i}]')
    if any(p.accelerator == 'tpu' for p in self.trainer_pools) and self.strategy not in (
        'auto', 'tpu'):
      problems.append(f'strategy {self.strategy!r} cannot drive a TPU pool: use "tpu" or "auto"')
    if self.tuner_trials < 0:
      problems.append(f'tuner_trials must be >= 0 (0: no Tuner), got {self.tuner_trials}')
    if self.train_steps is not None and self.train_steps < 1:
      problems.append(f'train_steps must be >= 1, got {self.train_steps}')
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
  @property
  def pipeline_root(self) -> str:
    if not self.on_vertex:
      return f'{self.local_home}/vertex_local/pipeline_root'
    return f'gs://{self.bucket}/pipeline_root'

  @property
  def data_root(self) -> str:
    if not self.on_vertex:
      return self.local_data_root
    return f'gs://{self.bucket}/data/{self.dataset.name}'

  @property
  def serving_model_dir(self) -> str:
    if not self.on_vertex:
      return f'{self.local_home}/serving_model'
    return f'gs://{self.bucket}/serving_model'

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
}
PROFILE_NAMES = tuple(_PROFILE_OVERRIDES)

# Environment variable -> profile field: the deployment identity, set per user/CI.
_ENV_FIELDS = {
    'GCP_PROJECT': 'project', 'GCP_REGION': 'region', 'GCS_BUCKET': 'bucket',
    'PIPELINE_IMAGE': 'image', 'PIPELINE_IMAGE_GPU': 'gpu_image',
    'PIPELINE_IMAGE_TPU': 'tpu_image', 'PIPELINE_SERVICE_ACCOUNT': 'service_account',
    'TRAINING_SERVICE_ACCOUNT': 'training_service_account',
    'VPC_NETWORK': 'network', 'CMEK_KEY': 'cmek_key', 'VERTEX_ENDPOINT_NAME': 'endpoint_name',
    'INPUT_PATTERN': 'input_pattern', 'BIGQUERY_QUERY': 'bigquery_query',
}


def load_profile(name: str, environ: Mapping[str, str], **overrides) -> Profile:
  """The named profile (built in, or from the PROFILES_FILE TOML) with the environment's
  identity fields and `overrides` applied."""
  path = environ.get('PROFILES_FILE')
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
  try:
    values['dataset'] = datasets.load(environ.get('DATASET') or datasets.DEFAULT)
  except datasets.DatasetError as error:
    raise ProfileError(str(error)) from None
  values.update({field: environ[env] for env, field in _ENV_FIELDS.items() if environ.get(env)})
  if environ.get('PIPELINE_LABELS'):
    values['labels'] = _parse_labels(environ['PIPELINE_LABELS'])
  try:
    values['example_files'] = example_files_from_env(environ)
  except ValueError as error:
    raise ProfileError(f'profile {name!r}: {error}') from None
  for env in ('TRAIN_STEPS', 'TUNER_TRIALS', 'TUNER_STEPS'):
    if environ.get(env):
      try:
        values[env.lower()] = int(environ[env])
      except ValueError:
        raise ProfileError(f'profile {name!r}: {env} must be a whole number, got '
                           f'{environ[env]!r}') from None
  if not values.get('on_vertex'):
    values['local_home'] = str(Path(environ.get('PIPELINE_HOME') or 'pipeline_home').resolve())
    values['local_data_root'] = str(Path(
        environ.get('DATA_ROOT') or datasets.data_root(values['dataset'])).resolve())
    if not environ.get('DATA_ROOT') and not values.get('input_pattern'):
      # The dataset's own data folder may hold other files (palmerpenguins: penguins-raw.csv).
      values['input_pattern'] = values['dataset'].default_input_pattern
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
