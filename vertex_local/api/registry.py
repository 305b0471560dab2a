"""The local Vertex AI's durable state: custom jobs, batch prediction jobs, the Model Registry
(every version of every model), endpoints and buckets.

The engine reuses one pipeline home across runs and starts a new server each run; a Pusher of the
second run must find the endpoint and the model the first created, as on Vertex AI. So every
change is written to `<state_dir>/registry.json` (atomically: a crash leaves the previous
version) and read back at start. Resources are kept as the real v1 messages, stored in their
JSON form; model versions by `<model>@<version id>`.
"""

import dataclasses
import json
import os
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple

from google.cloud.aiplatform_v1.types import batch_prediction_job as batch_types
from google.cloud.aiplatform_v1.types import custom_job as custom_job_types
from google.cloud.aiplatform_v1.types import endpoint as endpoint_types
from google.cloud.aiplatform_v1.types import model as model_types
from google.protobuf import json_format

BatchPredictionJob = batch_types.BatchPredictionJob
CustomJob = custom_job_types.CustomJob
Endpoint = endpoint_types.Endpoint
Model = model_types.Model

_FORMAT = 2  # 1: models by their unversioned name (one version each)
_KINDS = (('custom_jobs', CustomJob), ('models', Model), ('endpoints', Endpoint),
          ('batch_prediction_jobs', BatchPredictionJob))


@dataclasses.dataclass(frozen=True)
class CustomJobRecord:
  resource_name: str
  display_name: str
  state: str  # a JobState name, e.g. 'JOB_STATE_SUCCEEDED'
  error_message: str  # why it failed ('' unless FAILED or CANCELLED)
  log_dir: Path  # one <pool>-<replica>.log per replica


@dataclasses.dataclass(frozen=True)
class ModelRecord:
  """One version of a model of the registry."""
  resource_name: str  # projects/<p>/locations/<l>/models/<id>
  version_id: str  # '1', '2', ...
  version_aliases: Tuple[str, ...]  # e.g. ('champion', 'default')
  display_name: str
  artifact_uri: str  # as uploaded, e.g. gs://<staging bucket>/vertex_ai_auto_staging/<time>
  local_path: Optional[Path]  # where artifact_uri's files are here (None unless gs://)
  serving_image: str
  deployed_to: Tuple[str, ...]  # resource names of the endpoints serving it


@dataclasses.dataclass(frozen=True)
class DeploymentRecord:
  deployed_model_id: str
  model: str  # the model's resource name, with '@<version>' as the client sent it
  display_name: str
  traffic_percentage: int


@dataclasses.dataclass(frozen=True)
class EndpointRecord:
  resource_name: str  # projects/<p>/locations/<l>/endpoints/<id>
  display_name: str
  labels: Mapping[str, str]
  deployments: Tuple[DeploymentRecord, ...]


def gcs_path(gcs_root: Path, uri: str) -> Optional[Path]:
  """Where gs://<bucket>/<object> lives on this machine: <gcs_root>/<bucket>/<object>."""
  if not uri.startswith('gs://'):
    return None
  return gcs_root / uri[len('gs://'):].rstrip('/')


def unversioned(name: str) -> str:
  """A model's resource name without the '@<version>' clients append."""
  return name.split('@', 1)[0]


def versioned(model: Model) -> str:
  return f'{unversioned(model.name)}@{model.version_id}'


class Registry:
  """Custom jobs, models, endpoints and bucket metadata, kept in memory and in JSON."""

  def __init__(self, state_dir: Path):
    self.path = state_dir / 'registry.json'
    self.custom_jobs: Dict[str, CustomJob] = {}
    self.models: Dict[str, Model] = {}
    self.endpoints: Dict[str, Endpoint] = {}
    self.batch_prediction_jobs: Dict[str, BatchPredictionJob] = {}
    self.buckets: Dict[str, Dict[str, Any]] = {}  # bucket name -> its JSON API resource
    self._last_id = 1000

  def new_id(self) -> str:
    """A numeric resource ID never handed out before in this state_dir (Vertex IDs are digits)."""
    self._last_id += 1
    return str(self._last_id)

  def load(self) -> None:
    if not self.path.exists():
      return
    try:
      data = json.loads(self.path.read_text())
      self._last_id = int(data['last_id'])
      self.buckets = dict(data['buckets'])
      for key, message_type in _KINDS:
        setattr(self, key, {
            name: message_type.from_json(json.dumps(fields), ignore_unknown_fields=True)
            for name, fields in data.get(key, {}).items()})
      if data.get('format', 1) == 1:  # one version per model, keyed without it
        self.models = {versioned(model): model for model in self.models.values()}
    except (ValueError, KeyError, TypeError, json_format.ParseError) as error:
      raise RuntimeError(
          f'the local Vertex AI state {self.path} is unreadable ({error!r}); move it away to '
          'start with an empty Model Registry (its endpoints and models are then forgotten)'
      ) from error

  def save(self) -> None:
    data: Dict[str, Any] = {'format': _FORMAT, 'last_id': self._last_id, 'buckets': self.buckets}
    for key, message_type in _KINDS:
      data[key] = {name: json_format.MessageToDict(message_type.pb(message),
                                                   preserving_proto_field_name=True)
                   for name, message in getattr(self, key).items()}
    self.path.parent.mkdir(parents=True, exist_ok=True)
    partial = self.path.with_suffix('.json.partial')
    partial.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(partial, self.path)

  def custom_job_record(self, job: CustomJob, log_dir: Path) -> CustomJobRecord:
    return CustomJobRecord(resource_name=job.name, display_name=job.display_name,
                           state=job.state.name, error_message=job.error.message,
                           log_dir=log_dir)

  def model_record(self, model: Model, gcs_root: Path) -> ModelRecord:
    return ModelRecord(
        resource_name=unversioned(model.name), version_id=model.version_id,
        version_aliases=tuple(model.version_aliases), display_name=model.display_name,
        artifact_uri=model.artifact_uri, local_path=gcs_path(gcs_root, model.artifact_uri),
        serving_image=model.container_spec.image_uri,
        deployed_to=tuple(ref.endpoint for ref in model.deployed_models))

  def endpoint_record(self, endpoint: Endpoint) -> EndpointRecord:
    traffic = dict(endpoint.traffic_split)
    return EndpointRecord(
        resource_name=endpoint.name, display_name=endpoint.display_name,
        labels=dict(endpoint.labels),
        deployments=tuple(DeploymentRecord(
            deployed_model_id=deployed.id, model=deployed.model,
            display_name=deployed.display_name,
            traffic_percentage=int(traffic.get(deployed.id, 0)))
                          for deployed in endpoint.deployed_models))
