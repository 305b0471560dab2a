"""Tests of vertex_local."""
