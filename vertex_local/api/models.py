"""The v1 ModelService's Model Registry: UploadModel (long-running) and GetModel.

aiplatform.Model.upload stages a local artifact folder into Cloud Storage first (the local GCS
of this package, so the files land under gcs_root), then uploads the model with that gs:// URI.
Models are registered as version 1 and support dedicated deployment resources, as Vertex AI
registers custom-container models, so Model.deploy() takes its usual path.
"""

import datetime
from typing import Dict

import grpc
from google.cloud.aiplatform_v1.types import model as model_types
from google.cloud.aiplatform_v1.types import model_service, operation

from vertex_local.api.operations import Operations
from vertex_local.api.registry import Model, Registry, unversioned
from vertex_local.api.rpc import Method, RpcError, not_found, proto_method

_VERSION = '1'


def _now() -> datetime.datetime:
  return datetime.datetime.now(datetime.timezone.utc)


def _generic_metadata() -> operation.GenericOperationMetadata:
  return operation.GenericOperationMetadata(create_time=_now(), update_time=_now())


class ModelService:
  """UploadModel / GetModel over the shared Registry."""

  def __init__(self, registry: Registry, operations: Operations):
    self._registry = registry
    self._operations = operations

  def methods(self) -> Dict[str, Dict[str, Method]]:
    return {'google.cloud.aiplatform.v1.ModelService': {
        'UploadModel': proto_method(model_service.UploadModelRequest, self._upload),
        'GetModel': proto_method(model_service.GetModelRequest, self._get, Model),
    }}

  def model(self, name: str) -> Model:
    """The registered model `name` (with or without '@<version>'), else NOT_FOUND."""
    model = self._registry.models.get(unversioned(name))
    if model is None:
      raise not_found('Model', name)
    return model

  def _upload(self, request):
    if request.parent_model:
      raise RpcError(grpc.StatusCode.INVALID_ARGUMENT,
                     f'parent_model {request.parent_model!r}: the local Model Registry keeps one '
                     'version per model; upload a new model instead.')
    if not request.model.display_name:
      raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, 'model.display_name is required.')
    model = Model.deserialize(Model.serialize(request.model))
    model.name = f'{request.parent}/models/{request.model_id or self._registry.new_id()}'
    if model.name in self._registry.models:
      raise RpcError(grpc.StatusCode.ALREADY_EXISTS, f'Model {model.name!r} already exists.')
    model.version_id = _VERSION
    model.version_aliases = ['default']
    model.create_time = model.update_time = model.version_create_time = _now()
    model.version_update_time = model.create_time
    model.supported_deployment_resources_types = [
        model_types.Model.DeploymentResourcesType.DEDICATED_RESOURCES]
    self._registry.models[model.name] = model
    self._registry.save()
    response = model_service.UploadModelResponse(model=model.name, model_version_id=_VERSION)
    metadata = model_service.UploadModelOperationMetadata(generic_metadata=_generic_metadata())
    return self._operations.start(
        model.name, lambda: model_service.UploadModelResponse.pb(response),
        model_service.UploadModelOperationMetadata.pb(metadata))

  def _get(self, request) -> Model:
    return self.model(request.name)
