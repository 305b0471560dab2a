"""The Vertex ML Metadata filter subset, on stored artifacts: what matches, what is refused."""

import pytest

from vertex_local import filters
from vertex_local.store import ArtifactStore, StoredArtifact

BLESSING = ('schema_title="tfx.ModelBlessing" AND state=LIVE AND metadata.blessed.number_value=1'
            ' AND metadata.pipeline_scope.string_value="chicago-taxi"')


def _artifact(name, title='tfx.ModelBlessing', **metadata):
  return StoredArtifact(name=name, schema_title=title, uri=f'/x/{name}', metadata=metadata,
                        contexts=['ctx/chicago-taxi'])


@pytest.mark.parametrize('metadata, expected', [
    ({'blessed': 1.0, 'pipeline_scope': 'chicago-taxi'}, True),
    ({'blessed': 1, 'pipeline_scope': 'chicago-taxi'}, True),  # numbers compare numerically
    ({'blessed': 0.0, 'pipeline_scope': 'chicago-taxi'}, False),
    ({'blessed': 1.0, 'pipeline_scope': 'chicago-taxi-vertex-gpu'}, False),
    ({'blessed': 1.0}, False),  # a missing key never matches
    ({'blessed': '1', 'pipeline_scope': 'chicago-taxi'}, False),  # a string is not a number
])
def test_blessing_filter(metadata, expected):
  assert filters.matches(filters.parse(BLESSING), _artifact('a', **metadata)) is expected


def test_type_state_name_and_context():
  artifact = _artifact('projects/p/artifacts/7', title='tfx.Model')
  assert filters.matches(filters.parse(
      'schema_title="tfx.Model" AND state=LIVE AND name="projects/p/artifacts/7"'), artifact)
  assert not filters.matches(filters.parse('schema_title="tfx.Model" AND state=DELETED'),
                             artifact)
  assert filters.matches(filters.parse('in_context("ctx/chicago-taxi")'), artifact)
  assert not filters.matches(filters.parse('in_context("ctx/other")'), artifact)
  assert filters.matches(filters.parse('schema_title!="tfx.Examples"'), artifact)


def test_quoted_values_keep_escapes_and_spaces():
  artifact = _artifact('a', note='say "hi" AND go')
  assert filters.matches(filters.parse(r'metadata.note.string_value="say \"hi\" AND go"'),
                         artifact)


@pytest.mark.parametrize('text, named', [
    ('schema_title="x" OR state=LIVE', 'OR'),
    ('NOT schema_title="x"', 'NOT'),
    ('create_time>"2020-01-01"', 'create_time'),
    ('schema_title="x" AND', 'ends in the middle'),
    ('metadata.blessed.number_value=yes', 'needs a number'),
    ('metadata.blessed.struct_value=1', 'metadata.blessed.struct_value'),
    ('', 'empty filter'),
])
def test_unsupported_filters_are_refused_naming_the_problem(text, named):
  with pytest.raises(filters.FilterError) as error:
    filters.parse(text)
  assert named in str(error.value)


def test_store_query_is_whole_store_and_newest_first(tmp_path):
  store = ArtifactStore(tmp_path / 'metadata.json')
  for index, scope in enumerate(['chicago-taxi', 'other', 'chicago-taxi']):
    store.add(StoredArtifact(name=store.new_artifact_name(), schema_title='tfx.ModelBlessing',
                             uri=f'/b{index}', create_time=100.0 + index,
                             metadata={'blessed': 1.0, 'pipeline_scope': scope}))
  store.save()
  reloaded = ArtifactStore(tmp_path / 'metadata.json')
  assert [a.uri for a in reloaded.query(BLESSING)] == ['/b2', '/b0']
  unscoped = 'schema_title="tfx.ModelBlessing" AND state=LIVE'
  assert [a.uri for a in reloaded.query(unscoped)] == ['/b2', '/b1', '/b0']
