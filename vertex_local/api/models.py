"""The v1 ModelService's Model Registry, with versions and aliases as Vertex AI keeps them:
UploadModel (long-running), GetModel, ListModels, ListModelVersions, MergeVersionAliases.

- UploadModel without `parent_model` registers a new model at version 1; with it, version N+1
  of that model ("Only specify this field when uploading a new version").
- A version's aliases (`version_aliases`) are unique within the model: adding an alias another
  version has moves it. The first version gets `default`, and exactly one version has `default`
  at all times: it can be moved, never removed. aiplatform's Model.upload sends `default` for a
  new version unless told `is_default_version=False`.
- A name may carry `@<version id>` or `@<alias>`; without one it means the `default` version.
- MergeVersionAliases adds aliases, and removes those given as `-alias`.
aiplatform's Model.upload stages a local artifact folder into Cloud Storage first (the local
storage of this package, so the files land under gcs_root) and uploads that gs:// URI.
"""

import datetime
import re
from typing import Dict, List

import grpc
from google.cloud.aiplatform_v1.types import model as model_types
from google.cloud.aiplatform_v1.types import model_service, operation

from vertex_local.api import listing
from vertex_local.api.operations import Operations
from vertex_local.api.registry import Model, Registry, unversioned, versioned
from vertex_local.api.rpc import Method, RpcError, not_found, proto_method

DEFAULT = 'default'
_ALIAS = re.compile(r'^[a-z][a-zA-Z0-9-]{0,126}[a-z-0-9]$')


def _now() -> datetime.datetime:
  return datetime.datetime.now(datetime.timezone.utc)


def _invalid(message: str) -> RpcError:
  return RpcError(grpc.StatusCode.INVALID_ARGUMENT, message)


class ModelService:
  """The registry's models, every version."""

  def __init__(self, registry: Registry, operations: Operations):
    self._registry = registry
    self._operations = operations

  def methods(self) -> Dict[str, Dict[str, Method]]:
    service = model_service
    return {'google.cloud.aiplatform.v1.ModelService': {
        'UploadModel': proto_method(service.UploadModelRequest, self._upload),
        'GetModel': proto_method(service.GetModelRequest, self._get, Model),
        'ListModels': proto_method(service.ListModelsRequest, self._list,
                                   service.ListModelsResponse),
        'ListModelVersions': proto_method(service.ListModelVersionsRequest, self._versions,
                                          service.ListModelVersionsResponse),
        'MergeVersionAliases': proto_method(service.MergeVersionAliasesRequest, self._merge,
                                            Model),
    }}

  def versions(self, name: str) -> List[Model]:
    """Every version of model `name` (any '@' suffix ignored), oldest first."""
    base = unversioned(name)
    found = [m for key, m in self._registry.models.items() if unversioned(key) == base]
    return sorted(found, key=lambda m: int(m.version_id))

  def model(self, name: str) -> Model:
    """The version `name` means: '@<version id>', '@<alias>', else the default; NOT_FOUND."""
    base, _, ref = name.partition('@')
    for model in self.versions(base):
      if ref == model.version_id or (ref or DEFAULT) in model.version_aliases:
        return model
    raise not_found('Model', name)

  def _upload(self, request):
    if not request.model.display_name:
      raise _invalid('model.display_name is required.')
    model = Model.deserialize(Model.serialize(request.model))
    aliases = list(dict.fromkeys(model.version_aliases))
    for alias in aliases:
      self._check_alias(alias)
    if request.parent_model:
      earlier = self.versions(request.parent_model)
      if not earlier:
        raise not_found('Model', request.parent_model)
      model.name = unversioned(earlier[0].name)
      model.version_id = str(int(earlier[-1].version_id) + 1)
      model.create_time = earlier[0].create_time
    else:
      model.name = f'{request.parent}/models/{request.model_id or self._registry.new_id()}'
      if self.versions(model.name):
        raise RpcError(grpc.StatusCode.ALREADY_EXISTS, f'Model {model.name!r} already exists.')
      model.version_id = '1'
      model.create_time = _now()
      aliases = list(dict.fromkeys([*aliases, DEFAULT]))  # the first version is the default
    model.version_aliases = []
    model.update_time = model.version_create_time = model.version_update_time = _now()
    model.supported_deployment_resources_types = [
        model_types.Model.DeploymentResourcesType.DEDICATED_RESOURCES]
    self._registry.models[versioned(model)] = model
    self._set_aliases(model, aliases)
    self._registry.save()
    response = model_service.UploadModelResponse(model=model.name,
                                                 model_version_id=model.version_id)
    metadata = model_service.UploadModelOperationMetadata(generic_metadata=operation.
                                                          GenericOperationMetadata(
                                                              create_time=_now(),
                                                              update_time=_now()))
    return self._operations.start(
        model.name, lambda: model_service.UploadModelResponse.pb(response),
        model_service.UploadModelOperationMetadata.pb(metadata))

  @staticmethod
  def _check_alias(alias: str) -> None:
    if not _ALIAS.match(alias) or alias.replace('-', '').isdigit():
      raise _invalid(f'version alias {alias!r} is invalid: an alias matches '
                     '[a-z][a-zA-Z0-9-]{0,126}[a-z-0-9] and is not a number (numbers are '
                     'version IDs).')

  def _set_aliases(self, model: Model, aliases: List[str]) -> None:
    """Gives `model` these aliases, taking each from the version that had it."""
    for alias in aliases:
      for other in self.versions(model.name):
        if other is not model and alias in other.version_aliases:
          other.version_aliases = [a for a in other.version_aliases if a != alias]
          other.version_update_time = _now()
      if alias not in model.version_aliases:
        model.version_aliases = [*model.version_aliases, alias]
    model.version_update_time = _now()

  def _get(self, request) -> Model:
    return self.model(request.name)

  def _list(self, request) -> model_service.ListModelsResponse:
    """The default version of each model of `parent`, filtered by display_name / labels."""
    terms = listing.parse_filter(request.filter)
    defaults = [m for m in self._registry.models.values()
                if m.name.startswith(f'{request.parent}/models/') and
                DEFAULT in m.version_aliases and
                listing.matches(terms, lambda field, m=m: (
                    m.display_name if field == 'display_name'
                    else m.labels.get(field[len('labels.'):])))]
    return model_service.ListModelsResponse(models=sorted(defaults, key=lambda m: m.name))

  def _versions(self, request) -> model_service.ListModelVersionsResponse:
    found = self.versions(request.name)
    if not found:
      raise not_found('Model', request.name)
    return model_service.ListModelVersionsResponse(models=found)

  def _merge(self, request) -> Model:
    if '@' not in request.name:
      raise _invalid(f'name {request.name!r} must name a version: '
                     'projects/<p>/locations/<l>/models/<model>@<version id or alias>.')
    model = self.model(request.name)
    add = [a for a in request.version_aliases if not a.startswith('-')]
    remove = [a[1:] for a in request.version_aliases if a.startswith('-')]
    for alias in add + remove:
      self._check_alias(alias)
    if DEFAULT in remove and DEFAULT not in add:
      raise _invalid(f'the {DEFAULT!r} alias cannot be removed: exactly one version of a model '
                     f'has it; add it to another version to move it.')
    # "Adding and deleting the same alias in the request is not recommended": they cancel out.
    both = set(add) & set(remove)
    model.version_aliases = [a for a in model.version_aliases if a not in set(remove) - both]
    self._set_aliases(model, [a for a in add if a not in both])
    model.update_time = _now()
    self._registry.save()
    return model
