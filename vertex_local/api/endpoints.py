"""The v1 EndpointService: CreateEndpoint, DeployModel and UndeployModel (long-running),
GetEndpoint, ListEndpoints with the `display_name="..."` filter TFX's Vertex pusher looks
endpoints up by; and the PredictionService's Predict.

DeployModel adds a deployed model (a version of a registry model) with its traffic share: the
client's '0' in traffic_split is the model being deployed. UndeployModel removes one, with the
traffic_split the client gives for the others. Predict picks a deployed model by the traffic
split, as Vertex does for each request, and answers from that model's server (model_servers.py)
in Vertex's shape: `predictions`, `deployed_model_id`, `model`, `model_version_id`,
`model_display_name`.
"""

import datetime
import random
from typing import Dict, List, Tuple

import grpc
from google.cloud.aiplatform_v1.types import deployed_model_ref, endpoint_service, operation
from google.cloud.aiplatform_v1.types import prediction_service
from google.protobuf import json_format

from core import accelerators
from vertex_local.api import listing
from vertex_local.api.model_servers import ModelServers
from vertex_local.api.models import ModelService
from vertex_local.api.operations import Operations
from vertex_local.api.registry import Endpoint, Registry, gcs_path, versioned
from vertex_local.api.rpc import Method, RpcError, not_found, proto_method


def _now() -> datetime.datetime:
  return datetime.datetime.now(datetime.timezone.utc)


def _generic_metadata() -> operation.GenericOperationMetadata:
  return operation.GenericOperationMetadata(create_time=_now(), update_time=_now())


def _matches(endpoint: Endpoint, terms: List[Tuple[str, str]]) -> bool:
  return listing.matches(terms, lambda field: (
      endpoint.display_name if field == 'display_name'
      else endpoint.labels.get(field[len('labels.'):])))


class EndpointService:
  """CreateEndpoint / GetEndpoint / ListEndpoints / DeployModel over the shared Registry."""

  def __init__(self, registry: Registry, operations: Operations, models: ModelService,
               servers: ModelServers, lock, gcs_root):
    self._registry = registry
    self._operations = operations
    self._models = models
    self._servers = servers
    self._lock = lock
    self._gcs_root = gcs_root

  def methods(self) -> Dict[str, Dict[str, Method]]:
    return {'google.cloud.aiplatform.v1.EndpointService': {
        'CreateEndpoint': proto_method(endpoint_service.CreateEndpointRequest, self._create),
        'GetEndpoint': proto_method(endpoint_service.GetEndpointRequest, self._get, Endpoint),
        'ListEndpoints': proto_method(endpoint_service.ListEndpointsRequest, self._list,
                                      endpoint_service.ListEndpointsResponse),
        'DeployModel': proto_method(endpoint_service.DeployModelRequest, self._deploy),
        'UndeployModel': proto_method(endpoint_service.UndeployModelRequest, self._undeploy),
    }, 'google.cloud.aiplatform.v1.PredictionService': {
        'Predict': proto_method(prediction_service.PredictRequest, self._predict,
                                prediction_service.PredictResponse, locked=False),
    }}

  def _endpoint(self, name: str) -> Endpoint:
    if name not in self._registry.endpoints:
      raise not_found('Endpoint', name)
    return self._registry.endpoints[name]

  def _create(self, request):
    if not request.endpoint.display_name:
      raise RpcError(grpc.StatusCode.INVALID_ARGUMENT, 'endpoint.display_name is required.')
    endpoint = Endpoint.deserialize(Endpoint.serialize(request.endpoint))
    endpoint.name = f'{request.parent}/endpoints/{request.endpoint_id or self._registry.new_id()}'
    if endpoint.name in self._registry.endpoints:
      raise RpcError(grpc.StatusCode.ALREADY_EXISTS, f'Endpoint {endpoint.name!r} already exists.')
    endpoint.create_time = endpoint.update_time = _now()
    self._registry.endpoints[endpoint.name] = endpoint
    self._registry.save()
    metadata = endpoint_service.CreateEndpointOperationMetadata(generic_metadata=_generic_metadata())
    return self._operations.start(
        endpoint.name, lambda: Endpoint.pb(self._registry.endpoints[endpoint.name]),
        endpoint_service.CreateEndpointOperationMetadata.pb(metadata))

  def _get(self, request) -> Endpoint:
    return self._endpoint(request.name)

  def _list(self, request) -> endpoint_service.ListEndpointsResponse:
    terms = listing.parse_filter(request.filter)
    return endpoint_service.ListEndpointsResponse(endpoints=[
        endpoint for name, endpoint in sorted(self._registry.endpoints.items())
        if name.startswith(f'{request.parent}/endpoints/') and _matches(endpoint, terms)])

  def _deploy(self, request):
    """Adds the deployed model to the endpoint; its ID replaces '0' in the traffic split."""
    endpoint = self._endpoint(request.endpoint)
    model = self._models.model(request.deployed_model.model)
    machine = request.deployed_model.dedicated_resources.machine_spec.machine_type
    if machine and not accelerators.known_prediction_machine_type(machine):
      raise RpcError(grpc.StatusCode.INVALID_ARGUMENT,
                     'List of found errors:\t1.Field: deployed_model.dedicated_resources.'
                     f'machine_spec.machine_type; Message: Machine type "{machine}" is not '
                     'supported.')
    deployed = type(request.deployed_model).deserialize(
        type(request.deployed_model).serialize(request.deployed_model))
    deployed.id = self._registry.new_id()
    deployed.display_name = deployed.display_name or model.display_name
    deployed.model_version_id = request.deployed_model.model.partition('@')[2] or model.version_id
    deployed.create_time = _now()
    traffic = {key: value for key, value in request.traffic_split.items()}
    if '0' in traffic:
      traffic[deployed.id] = traffic.pop('0')
    elif not traffic and not endpoint.deployed_models:
      traffic = {deployed.id: 100}
    if traffic and sum(traffic.values()) != 100:
      raise RpcError(grpc.StatusCode.INVALID_ARGUMENT,
                     f'traffic_split {traffic} must add up to 100.')
    endpoint.deployed_models.append(deployed)
    if traffic:
      endpoint.traffic_split = traffic
    endpoint.update_time = _now()
    model.deployed_models.append(deployed_model_ref.DeployedModelRef(
        endpoint=endpoint.name, deployed_model_id=deployed.id))
    model.update_time = _now()
    self._registry.save()
    response = endpoint_service.DeployModelResponse(deployed_model=deployed)
    metadata = endpoint_service.DeployModelOperationMetadata(generic_metadata=_generic_metadata())
    return self._operations.start(
        endpoint.name, lambda: endpoint_service.DeployModelResponse.pb(response),
        endpoint_service.DeployModelOperationMetadata.pb(metadata))

  def _undeploy(self, request):
    """Removes a deployed model; traffic_split gives the others' shares (required while the
    removed one has traffic and others remain, as on Vertex AI)."""
    endpoint = self._endpoint(request.endpoint)
    ids = [deployed.id for deployed in endpoint.deployed_models]
    if request.deployed_model_id not in ids:
      raise not_found('DeployedModel', f'{request.endpoint}/{request.deployed_model_id}')
    removed = endpoint.deployed_models[ids.index(request.deployed_model_id)]
    remaining = {key: value for key, value in endpoint.traffic_split.items()
                 if key != removed.id}
    if request.traffic_split:
      remaining = dict(request.traffic_split)
    elif endpoint.traffic_split.get(removed.id) and len(ids) > 1:
      raise RpcError(grpc.StatusCode.FAILED_PRECONDITION,
                     f'Deployed model {removed.id} has {endpoint.traffic_split[removed.id]}% of '
                     'the traffic: give traffic_split for the remaining deployed models.')
    if remaining and (sum(remaining.values()) != 100 or removed.id in remaining):
      raise RpcError(grpc.StatusCode.INVALID_ARGUMENT,
                     f'traffic_split {remaining} must give the remaining deployed models 100%.')
    del endpoint.deployed_models[ids.index(removed.id)]
    endpoint.traffic_split = remaining
    endpoint.update_time = _now()
    for model in self._registry.models.values():
      refs = [ref for ref in model.deployed_models if not (
          ref.endpoint == endpoint.name and ref.deployed_model_id == removed.id)]
      if len(refs) != len(model.deployed_models):
        model.deployed_models = refs
        model.update_time = _now()
    self._registry.save()
    self._servers.stop(removed.id)
    metadata = endpoint_service.UndeployModelOperationMetadata(generic_metadata=_generic_metadata())
    return self._operations.start(
        endpoint.name, lambda: endpoint_service.UndeployModelResponse.pb(
            endpoint_service.UndeployModelResponse()),
        endpoint_service.UndeployModelOperationMetadata.pb(metadata))

  def _predict(self, request) -> prediction_service.PredictResponse:
    """Runs without the server's lock: a model's server may take seconds to start."""
    with self._lock:
      endpoint = self._endpoint(request.endpoint)
      shares = {key: value for key, value in endpoint.traffic_split.items() if value > 0}
      if not shares:
        raise RpcError(grpc.StatusCode.FAILED_PRECONDITION,
                       f'Endpoint {endpoint.name!r} has no deployed model taking traffic.')
      chosen = random.choices(list(shares), weights=list(shares.values()))[0]
      deployed = next(d for d in endpoint.deployed_models if d.id == chosen)
      model = self._models.model(f'{deployed.model.partition("@")[0]}@'
                                 f'{deployed.model_version_id}')
      name, model_dir = versioned(model), gcs_path(self._gcs_root, model.artifact_uri)
      display_name, version = model.display_name, model.version_id
    instances = [_plain(value) for value in request.instances]
    parameters = _plain(request.parameters) if 'parameters' in request else None
    predictions = self._servers.predict(chosen, name, model_dir, instances, parameters)
    response = prediction_service.PredictResponse.pb(prediction_service.PredictResponse(
        deployed_model_id=chosen, model=name.partition('@')[0], model_version_id=version,
        model_display_name=display_name))
    for prediction in predictions:  # google.protobuf.Values, from the server's JSON
      json_format.ParseDict(prediction, response.predictions.add())
    return prediction_service.PredictResponse.wrap(response)


def _plain(value):
  """A google.protobuf.Value as proto-plus hands it over, as plain JSON."""
  if hasattr(value, 'items'):
    return {key: _plain(item) for key, item in value.items()}
  if isinstance(value, (list, tuple)) or type(value).__name__ == 'RepeatedComposite':
    return [_plain(item) for item in value]
  return value
