"""The engine adapters (runs/report/sources.py): MLMD for LocalDagRunner, the JSON store of
the local Vertex engine; both give the same RunRecord."""

from runs.report import record as sources
from tests.runs.report import fixtures
from tests.runs.report import stores


def test_mlmd_run_lists_steps_and_artifacts_by_node_and_type(home, uris):
  stores.mlmd_home(home, uris, run_id='run-1')
  source = sources.open_source(home, 'local')
  assert [run_id for run_id, _ in source.run_ids()] == ['run-1']
  record = source.run()
  assert record.run_id == 'run-1' and record.engine == 'local'
  assert [s.name for s in record.steps][:3] == [
      'ImportSchemaGen', 'latest_validated_statistics_resolver', 'StatisticsGen']
  assert record.status == 'succeeded' and record.error is None
  assert record.output('StatisticsGen', 'ExampleStatistics').uri == str(uris['statistics'])
  assert record.output('Evaluator', 'ModelBlessing').properties['blessed'] == 1
  assert record.input('AnomaliesGate', 'baseline_statistics').uri == str(uris['baseline'])
  assert record.parameters['Trainer']['train_args'] == '{"num_steps": 200}'


def test_mlmd_finds_the_latest_evaluation_of_a_model(home, uris):
  stores.mlmd_home(home, uris, run_id='run-1')
  source = sources.open_source(home, 'local')
  run_id, evaluation = source.evaluation_of('/home/pipeline_root/Trainer/model/10')
  assert (run_id, evaluation.uri) == ('run-1', str(uris['evaluation']))
  assert source.evaluation_of('/another/model') is None


def test_mlmd_failed_run_names_the_step_and_its_exception(home, uris):
  stores.mlmd_home(home, uris, fail_at='AnomaliesGate')
  record = sources.open_source(home, 'local').run('run-2')
  assert record.status == 'failed'
  assert record.error.startswith('AnomaliesGate failed: components.anomalies_gate.'
                                 'DataAnomaliesError: data validation found 2 anomalies')
  assert '[eval] company: ENUM_TYPE_UNEXPECTED_STRING_VALUES' in record.error
  assert record.output('Trainer', 'ModelRun') is None


def test_mlmd_without_a_store_or_run_is_none(home):
  source = sources.open_source(home, 'local')
  assert source.run_ids() == [] and source.run() is None


def test_vertex_run_takes_cached_steps_outputs_from_the_earlier_run(home, uris):
  stores.vertex_home(home, uris)
  source = sources.open_source(home, 'vertex-local')
  assert [r for r, _ in source.run_ids()] == [fixtures.EARLIER_RUN_ID, fixtures.RUN_ID]
  record = source.run(fixtures.RUN_ID, stores.vertex_summary(uris))
  statistics = record.output('StatisticsGen', 'ExampleStatistics')
  assert statistics.run_id == fixtures.EARLIER_RUN_ID  # cached: made by the earlier run
  assert record.output('Trainer', 'ModelRun').run_id == fixtures.RUN_ID
  assert [s.status for s in record.steps if s.name == 'StatisticsGen'] == ['cached']
  assert record.input('AnomaliesGate', 'baseline_statistics').uri == str(uris['baseline'])


def test_vertex_finds_the_latest_evaluation_of_a_model(home, uris):
  stores.vertex_home(home, uris)
  run_id, evaluation = sources.open_source(home, 'vertex-local').evaluation_of(
      '/home/pipeline_root/Trainer/model/10')
  assert (run_id, evaluation.uri) == (fixtures.RUN_ID, str(uris['evaluation']))


def test_vertex_run_without_its_summary_lists_what_it_produced(home, uris):
  stores.vertex_home(home, uris)
  record = sources.open_source(home, 'vertex-local').run()
  assert record.run_id == fixtures.RUN_ID
  assert 'StatisticsGen' not in [s.name for s in record.steps]
  assert record.input('AnomaliesGate', 'baseline_statistics') is None
  assert record.status == 'succeeded'
  assert sources.open_source(home, 'vertex-local').run('no-such-run') is None
