"""Tests of vertex_local.api: real client libraries against the local Vertex AI."""
