"""Runs a compiled Vertex AI pipeline on this machine, with a local stand-in for the Vertex AI API."""

ENGINE_NAME = 'vertex-local'
