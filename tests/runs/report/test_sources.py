"""The engines' adapters over their stores (runs/report/record.py RunSource): MLMD for
LocalDagRunner (pipeline/engines/local_store.py), the JSON store of the local Vertex engine
(vertex_local/report_source.py); both give the same RunRecord."""

import pytest

from pipeline.engines import local_store
from tests.runs.report import fixtures
from tests.runs.report import stores
from vertex_local import report_source


def _source(home, engine):
  return stores.sources(home)[engine]


def test_every_engine_with_a_store_in_the_home_gives_its_source(home):
  found = stores.sources(home)
  assert isinstance(found['local'], local_store.MlmdSource)
  assert found['local'].path == home.metadata and found['local'].engine == 'local'
  assert isinstance(found['vertex-local'], report_source.VertexLocalSource)
  assert found['vertex-local'].path == home.vertex_local / 'metadata.json'
  assert found['vertex-local'].engine == 'vertex-local'
  assert 'vertex' not in found  # Vertex AI keeps its runs in the cloud, not in the home


def test_mlmd_run_lists_steps_and_artifacts_by_node_and_type(home, uris):
  stores.mlmd_home(home, uris, run_id='run-1')
  source = _source(home, 'local')
  assert [run_id for run_id, _ in source.run_ids()] == ['run-1']
  record = source.run()
  assert record.run_id == 'run-1' and record.engine == 'local'
  assert [s.name for s in record.steps][:4] == [
      'CsvExampleGen', 'ImportSchemaGen', 'latest_validated_statistics_resolver', 'StatisticsGen']
  assert record.status == 'succeeded' and record.error is None
  assert record.output('StatisticsGen', 'ExampleStatistics').uri == str(uris['statistics'])
  assert record.output('Evaluator', 'ModelBlessing').properties['blessed'] == 1
  assert record.input('AnomaliesGate', 'baseline_statistics').uri == str(uris['baseline'])
  assert record.parameters['Trainer']['train_args'] == '{"num_steps": 200}'


def test_mlmd_finds_the_latest_evaluation_of_a_model(home, uris):
  stores.mlmd_home(home, uris, run_id='run-1')
  source = _source(home, 'local')
  run_id, evaluation = source.evaluation_of('/home/pipeline_root/Trainer/model/10')
  assert (run_id, evaluation.uri) == ('run-1', str(uris['evaluation']))
  assert source.evaluation_of('/another/model') is None


def test_mlmd_failed_run_names_the_step_and_its_exception(home, uris):
  stores.mlmd_home(home, uris, fail_at='AnomaliesGate')
  record = _source(home, 'local').run('run-2')
  assert record.status == 'failed'
  assert record.error.startswith('AnomaliesGate failed: components.anomalies_gate.'
                                 'DataAnomaliesError: data validation found 2 anomalies')
  assert '[eval] company: ENUM_TYPE_UNEXPECTED_STRING_VALUES' in record.error
  assert record.output('Trainer', 'ModelRun') is None


def test_mlmd_without_a_store_or_run_is_none(home):
  source = _source(home, 'local')
  assert source.run_ids() == [] and source.run() is None


def test_mlmd_record_of_a_summary_is_the_latest_run_when_a_component_ran(home, uris):
  stores.mlmd_home(home, uris, run_id='run-1')
  stores.mlmd_home(home, uris, run_id='run-2')
  source = _source(home, 'local')
  record, note = source.record_of(fixtures.summary())
  assert record.run_id == 'run-2' and note is None
  # Nothing new: nothing ran; the figures are the last run's that did, said so.
  record, note = source.record_of(fixtures.summary(components=[], nothing_new=True))
  assert record.run_id == 'run-2'
  assert note.startswith('nothing new: nothing ran in this run; the figures below are from '
                         'run run-2, the last run that did')
  # Failed before any component: the store's runs are earlier runs, not this one.
  assert source.record_of(fixtures.summary(status='failed', components=[])) == (None, None)


def test_mlmd_describes_a_local_summary_of_its_latest_run_only(home, uris):
  source = _source(home, 'local')
  summary = fixtures.summary()
  assert source.describes(summary, 'run-2', 'run-2')
  assert not source.describes(summary, 'run-1', 'run-2')  # an earlier run
  assert not source.describes(fixtures.summary(components=[], nothing_new=True), 'run-2',
                              'run-2')  # nothing ran: not that run's summary
  assert not source.describes(fixtures.summary(engine='vertex-local'), 'run-2', 'run-2')
  assert not source.describes(None, 'run-2', 'run-2')


def test_vertex_run_takes_cached_steps_outputs_from_the_earlier_run(home, uris):
  stores.vertex_home(home, uris)
  source = _source(home, 'vertex-local')
  assert [r for r, _ in source.run_ids()] == [fixtures.EARLIER_RUN_ID, fixtures.RUN_ID]
  record = source.run(fixtures.RUN_ID, stores.vertex_summary(uris))
  statistics = record.output('StatisticsGen', 'ExampleStatistics')
  assert statistics.run_id == fixtures.EARLIER_RUN_ID  # cached: made by the earlier run
  assert record.output('Trainer', 'ModelRun').run_id == fixtures.RUN_ID
  assert [s.status for s in record.steps if s.name == 'StatisticsGen'] == ['cached']
  assert record.input('AnomaliesGate', 'baseline_statistics').uri == str(uris['baseline'])


def test_vertex_finds_the_latest_evaluation_of_a_model(home, uris):
  stores.vertex_home(home, uris)
  run_id, evaluation = _source(home, 'vertex-local').evaluation_of(
      '/home/pipeline_root/Trainer/model/10')
  assert (run_id, evaluation.uri) == (fixtures.RUN_ID, str(uris['evaluation']))


def test_vertex_run_without_its_summary_lists_what_it_produced(home, uris):
  stores.vertex_home(home, uris)
  record = _source(home, 'vertex-local').run()
  assert record.run_id == fixtures.RUN_ID
  assert 'StatisticsGen' not in [s.name for s in record.steps]
  assert record.input('AnomaliesGate', 'baseline_statistics') is None
  assert record.status == 'succeeded'
  assert _source(home, 'vertex-local').run('no-such-run') is None


def test_vertex_record_of_and_describes_go_by_the_summarys_run_id(home, uris):
  stores.vertex_home(home, uris)
  source = _source(home, 'vertex-local')
  summary = stores.vertex_summary(uris)
  record, note = source.record_of(summary)
  assert record.run_id == fixtures.RUN_ID and note is None
  assert [s.status for s in record.steps if s.name == 'StatisticsGen'] == ['cached']
  earlier, _ = source.record_of(stores.vertex_summary(uris, run_id=fixtures.EARLIER_RUN_ID))
  assert earlier.run_id == fixtures.EARLIER_RUN_ID
  # A run that failed before the spec ran has no run id: nothing of the store is its.
  assert source.record_of(fixtures.summary(engine='vertex-local', components=[])) == (None,
                                                                                        None)
  assert source.describes(summary, fixtures.RUN_ID, fixtures.RUN_ID)
  assert source.describes(stores.vertex_summary(uris, run_id=fixtures.EARLIER_RUN_ID),
                          fixtures.EARLIER_RUN_ID, fixtures.RUN_ID)
  assert not source.describes(summary, fixtures.EARLIER_RUN_ID, fixtures.RUN_ID)
  assert not source.describes(fixtures.summary(run_id=fixtures.RUN_ID), fixtures.RUN_ID,
                              fixtures.RUN_ID)  # a local run's summary


def test_mlmd_nothing_new_figures_are_the_same_pipelines_last_run(home, uris):
  """Two pipelines share the home (and so the MLMD store): after a "nothing new" taxi run, the
  figures are the last taxi run's, never a later penguins run's."""
  stores.mlmd_home(home, uris, run_id='taxi-run', pipeline_name='chicago-taxi')
  stores.mlmd_home(home, uris, run_id='penguins-run', pipeline_name='penguins')
  record, note = _source(home, 'local').record_of(
      fixtures.summary(components=[], nothing_new=True, pipeline='chicago-taxi'))
  assert record.run_id == 'taxi-run'
  assert 'from run taxi-run, the last run that did' in note
