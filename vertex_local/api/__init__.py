"""A local Vertex AI API that the real client libraries (aiplatform, GAPIC, TFX) reach over the
wire: see server.LocalVertexAI."""

from vertex_local.api.registry import (CustomJobRecord, DeploymentRecord, EndpointRecord,
                                       ModelRecord)
from vertex_local.api.rpc import RecordedCall
from vertex_local.api.server import LocalVertexAI
from vertex_local.api.workers import ReplicaSpec, launch_locally

__all__ = ['CustomJobRecord', 'DeploymentRecord', 'EndpointRecord', 'LocalVertexAI',
           'ModelRecord', 'RecordedCall', 'ReplicaSpec', 'launch_locally']
