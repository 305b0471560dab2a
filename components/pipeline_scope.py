"""Pipeline scope: which pipeline an artifact was made for, stamped on the artifacts that later
runs resolve as baselines (the gate's validated statistics, the Evaluator's blessing).

Why: KubeflowV2DagRunner compiles a Resolver to a Vertex ML Metadata filter that names only the
artifact type and state (`schema_title="tfx.ModelBlessing" AND state=LIVE ...`). The producer,
the output key and the pipeline are lost, and one Vertex ML Metadata store holds every pipeline
of a project, so another pipeline's model or StatisticsGen's statistics could become the
baseline. Whether Vertex scopes resolver queries on its own is not documented, so the scope is
made explicit: the producers stamp `pipeline_scope` and the compiled filters require it
(pipeline/vertex/scoped_resolvers.py). LocalDagRunner scopes by pipeline context anyway; the stamp is
harmless there.
"""

from tfx import types

from core.names import PIPELINE_SCOPE_KEY


def stamp(artifact: types.Artifact, pipeline_scope: str) -> None:
  """Marks `artifact` as made for `pipeline_scope` (no-op for an empty scope)."""
  if pipeline_scope:
    artifact.set_string_custom_property(PIPELINE_SCOPE_KEY, pipeline_scope)


def filter_clause(pipeline_scope: str) -> str:
  """The Vertex ML Metadata filter clause that matches only artifacts stamped for the scope."""
  if '"' in pipeline_scope or '\\' in pipeline_scope:
    raise ValueError(f'pipeline scope must not contain quotes or backslashes, got '
                     f'{pipeline_scope!r}')
  return f'metadata.{PIPELINE_SCOPE_KEY}.string_value="{pipeline_scope}"'
