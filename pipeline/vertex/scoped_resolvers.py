"""Adds the pipeline scope to the resolver queries of a compiled Vertex pipeline job.

KubeflowV2DagRunner compiles a Resolver to a Vertex ML Metadata filter that keeps only the
artifact type and state; the producer, output key and pipeline are lost (see
components/pipeline_scope.py). Compiled as it is, on Vertex
- the drift baseline `schema_title="tfx.ExampleStatistics" AND state=LIVE` also matches
  StatisticsGen's and Transform's statistics, of any pipeline of the project;
- the blessing query `schema_title="tfx.ModelBlessing" AND ... blessed.number_value=1` matches
  any pipeline's blessing, and the model is then looked up by that blessing's model name.

Every resolver query of the job is rewritten here, before the spec is written: statistics and
blessing queries must also carry the `pipeline_scope` stamp of this pipeline, which only the
AnomaliesGate (validated statistics) and the ScopedEvaluator (blessing) set. The model query is
already scoped through the blessing it names. A resolver query of any other shape is refused at
compile time, so a new resolver cannot silently compile unscoped.
"""

import re
from typing import Any, Dict, List, Tuple

from components import pipeline_scope

# Artifact types whose resolver queries need the scope stamp, and who stamps them.
SCOPED_TYPES = {
    'tfx.ExampleStatistics': 'AnomaliesGate (validated_statistics)',
    'tfx.ModelBlessing': 'ScopedEvaluator (blessing)',
}
# A model looked up by the name a (scoped) blessing carries is scoped through that blessing.
_MODEL_BY_BLESSING = re.compile(
    r'schema_title="tfx\.Model" AND state=LIVE AND '
    r'name="\{\{\$\.inputs\.artifacts\[\'input\'\]\.metadata\[\'current_model_id\'\]\}\}"')
_TITLE = re.compile(r'schema_title="([^"]+)"')


class UnscopedResolverError(ValueError):
  """A compiled resolver query could not be scoped to the pipeline."""


def scope_resolver_queries(job: Dict[str, Any], pipeline_name: str) -> List[Tuple[str, str]]:
  """Rewrites `job` (a compiled PipelineJob dict) in place; returns (executor, new filter) pairs.

  Idempotent: a query that already requires this pipeline's scope is left as it is.
  """
  clause = pipeline_scope.filter_clause(pipeline_name)
  changed = []
  executors = job['pipelineSpec']['deploymentSpec']['executors']
  for label, executor in sorted(executors.items()):
    queries = executor.get('resolver', {}).get('outputArtifactQueries', {})
    for key, query in sorted(queries.items()):
      text = query.get('filter', '')
      title = _TITLE.search(text)
      if title and title.group(1) in SCOPED_TYPES:
        if clause not in text:
          query['filter'] = f'{text} AND {clause}'
          changed.append((label, query['filter']))
      elif not _MODEL_BY_BLESSING.fullmatch(text):
        raise UnscopedResolverError(
            f'resolver executor {label!r} output {key!r} has the query {text!r}, which this '
            f'project cannot scope to pipeline {pipeline_name!r}: only {sorted(SCOPED_TYPES)} '
            '(stamped by ' + ', '.join(SCOPED_TYPES.values()) + ') and the model named by a '
            'blessing are scoped. Stamp the new producer with components/pipeline_scope.py '
            'and add its type to SCOPED_TYPES')
  return changed
