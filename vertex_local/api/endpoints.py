"""The v1 EndpointService: CreateEndpoint and DeployModel (long-running), GetEndpoint, and
ListEndpoints with the `display_name="..."` filter TFX's Vertex pusher looks endpoints up by.

A deployment is recorded (the deployed model, its resources, the traffic split) but serves no
predictions: the local engine needs to know what was pushed where, not a prediction server.
"""

import datetime
import re
from typing import Dict, List, Tuple

import grpc
from google.cloud.aiplatform_v1.types import deployed_model_ref, endpoint_service, operation

from vertex_local.api.models import ModelService
from vertex_local.api.operations import Operations
from vertex_local.api.registry import Endpoint, Registry
from vertex_local.api.rpc import Method, RpcError, not_found, proto_method

_TERM = re.compile(r'^\s*(display_name|labels\.[\w-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s"]+)\s*$')


def _now() -> datetime.datetime:
  return datetime.datetime.now(datetime.timezone.utc)


def _generic_metadata() -> operation.GenericOperationMetadata:
  return operation.GenericOperationMetadata(create_time=_now(), update_time=_now())


def parse_filter(text: str) -> List[Tuple[str, str]]:
  """[(field, value)] of a filter such as 'display_name="taxi" AND labels.team=ml'.

  Only the equality terms clients send to find endpoints are understood; anything else is an
  INVALID_ARGUMENT naming what is supported, rather than a silently wrong listing.
  """
  terms = []
  for term in re.split(r'\s+AND\s+', text.strip()) if text.strip() else []:
    match = _TERM.match(term)
    if not match:
      raise RpcError(grpc.StatusCode.INVALID_ARGUMENT,
                     f'filter term {term!r} is not supported by the local Vertex AI: use '
                     'display_name="..." or labels.<key>="...", joined by AND.')
    value = match.group(2)
    if value.startswith('"'):
      value = re.sub(r'\\(.)', r'\1', value[1:-1])
    terms.append((match.group(1), value))
  return terms


def _matches(endpoint: Endpoint, terms: List[Tuple[str, str]]) -> bool:
  for field, value in terms:
    actual = (endpoint.display_name if field == 'display_name'
              else endpoint.labels.get(field[len('labels.'):]))
    if actual != value:
      return False
  return True


class EndpointService:
  """CreateEndpoint / GetEndpoint / ListEndpoints / DeployModel over the shared Registry."""

  def __init__(self, registry: Registry, operations: Operations, models: ModelService):
    self._registry = registry
    self._operations = operations
    self._models = models

  def methods(self) -> Dict[str, Dict[str, Method]]:
    return {'google.cloud.aiplatform.v1.EndpointService': {
        'CreateEndpoint': proto_method(endpoint_service.CreateEndpointRequest, self._create),
        'GetEndpoint': proto_method(endpoint_service.GetEndpointRequest, self._get, Endpoint),
        'ListEndpoints': proto_method(endpoint_service.ListEndpointsRequest, self._list,
                                      endpoint_service.ListEndpointsResponse),
        'DeployModel': proto_method(endpoint_service.DeployModelRequest, self._deploy),
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
    terms = parse_filter(request.filter)
    return endpoint_service.ListEndpointsResponse(endpoints=[
        endpoint for name, endpoint in sorted(self._registry.endpoints.items())
        if name.startswith(f'{request.parent}/endpoints/') and _matches(endpoint, terms)])

  def _deploy(self, request):
    """Adds the deployed model to the endpoint; its ID replaces '0' in the traffic split."""
    endpoint = self._endpoint(request.endpoint)
    model = self._models.model(request.deployed_model.model)
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
