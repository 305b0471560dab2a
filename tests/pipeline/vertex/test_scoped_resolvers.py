"""The compiled resolver queries get the pipeline scope; a query that cannot be scoped is
refused at compile time."""

import copy

import pytest

from pipeline.vertex import scoped_resolvers

STATISTICS = 'schema_title="tfx.ExampleStatistics" AND state=LIVE'
BLESSING = ('schema_title="tfx.ModelBlessing" AND state=LIVE AND '
            'metadata.blessed.number_value=1')
MODEL = ('schema_title="tfx.Model" AND state=LIVE AND '
         'name="{{$.inputs.artifacts[\'input\'].metadata[\'current_model_id\']}}"')


def _job(**queries):
  executors = {f'{key}_executor': {'resolver': {'outputArtifactQueries': {
      key: {'filter': text}}}} for key, text in queries.items()}
  executors['Trainer_executor'] = {'container': {'image': 'i'}}
  return {'pipelineSpec': {'deploymentSpec': {'executors': executors}}}


def _filters(job):
  return {label: next(iter(e['resolver']['outputArtifactQueries'].values()))['filter']
          for label, e in job['pipelineSpec']['deploymentSpec']['executors'].items()
          if 'resolver' in e}


def test_statistics_and_blessing_queries_require_the_scope():
  job = _job(statistics=STATISTICS, model_blessing=BLESSING, model=MODEL)
  scoped_resolvers.scope_resolver_queries(job, 'chicago-taxi')
  clause = ' AND metadata.pipeline_scope.string_value="chicago-taxi"'
  assert _filters(job) == {'statistics_executor': STATISTICS + clause,
                           'model_blessing_executor': BLESSING + clause,
                           'model_executor': MODEL}  # scoped through the blessing it names
  again = copy.deepcopy(job)
  assert scoped_resolvers.scope_resolver_queries(again, 'chicago-taxi') == []
  assert again == job


def test_a_query_it_cannot_scope_fails_the_compile():
  job = _job(examples='schema_title="tfx.Examples" AND state=LIVE')
  with pytest.raises(scoped_resolvers.UnscopedResolverError,
                     match="'examples_executor'.*cannot scope to pipeline 'p'"):
    scoped_resolvers.scope_resolver_queries(job, 'p')


def test_a_scope_a_filter_cannot_quote_is_refused():
  with pytest.raises(ValueError, match='quotes'):
    scoped_resolvers.scope_resolver_queries(_job(statistics=STATISTICS), 'a"b')
