"""Resolver and importer tasks against the store, and failure messages from task logs; no
subprocess runs here (tests/vertex_local/test_engine_e2e.py runs whole specs)."""

import json
from pathlib import Path

import pytest

from vertex_local import spec as spec_lib
from vertex_local import tasks
from vertex_local.store import ArtifactStore, StoredArtifact
from vertex_local.substitutions import Substitutions

BLESSING_QUERY = ('schema_title="tfx.ModelBlessing" AND state=LIVE AND '
                  'metadata.blessed.number_value=1 AND '
                  'metadata.pipeline_scope.string_value="chicago-taxi"')
MODEL_QUERY = ('schema_title="tfx.Model" AND state=LIVE AND '
               'name="{{$.inputs.artifacts[\'input\'].metadata[\'current_model_id\']}}"')
IMPORTER = {'importer': {'artifactUri': {'constantValue': {'stringValue': 'gs://b/schema'}},
                         'typeSchema': {'instanceSchema': 'title: tfx.Schema\ntype: object\n'},
                         'metadata': {'note': 'curated'}}}


def _job(tmp_path: Path):
  components = {
      'blessing': {'executorLabel': 'blessing_ex', 'outputDefinitions': {'artifacts': {
          'model_blessing': {'artifactType': {'schemaTitle': 'tfx.ModelBlessing'}}}}},
      'model': {'executorLabel': 'model_ex', 'inputDefinitions': {'artifacts': {
          'input': {'artifactType': {'schemaTitle': 'tfx.ModelBlessing'}}}},
                'outputDefinitions': {'artifacts': {
                    'model': {'artifactType': {'schemaTitle': 'tfx.Model'}}}}},
      'schema': {'executorLabel': 'schema_ex', 'outputDefinitions': {'artifacts': {
          'result': {'artifactType': {'schemaTitle': 'tfx.Schema'}}}}},
  }
  executors = {
      'blessing_ex': {'resolver': {'outputArtifactQueries': {
          'model_blessing': {'filter': BLESSING_QUERY}}}},
      'model_ex': {'resolver': {'outputArtifactQueries': {'model': {'filter': MODEL_QUERY}}}},
      'schema_ex': IMPORTER,
  }
  dag = {'blessing': {'componentRef': {'name': 'blessing'}},
         'model': {'componentRef': {'name': 'model'}, 'inputs': {'artifacts': {'input': {
             'taskOutputArtifact': {'producerTask': 'blessing',
                                    'outputArtifactKey': 'model_blessing'}}}}},
         'schema': {'componentRef': {'name': 'schema'}}}
  path = tmp_path / 'job.json'
  path.write_text(json.dumps({'pipelineSpec': {
      'pipelineInfo': {'name': 'chicago-taxi'}, 'components': components,
      'deploymentSpec': {'executors': executors}, 'root': {'dag': {'tasks': dag}}},
      'runtimeConfig': {'gcsOutputDirectory': 'gs://b/root'}}))
  return spec_lib.load(path)


def _context(tmp_path, store):
  return tasks.RunContext(
      job=_job(tmp_path), run_id='run-3', store=store,
      substitutions=Substitutions(tmp_path / 'gcs', tmp_path / 'pkg', None, 'python'),
      produced={}, environment={}, task_log_dir=tmp_path / 'logs', contexts=['ctx'],
      log=lambda text: None)


def _add(store, title, run, **metadata):
  return store.add(StoredArtifact(name=store.new_artifact_name(), schema_title=title,
                                  uri=f'/{run}/{title}', metadata=metadata, pipeline_run=run,
                                  producer_task='Evaluator' if 'Blessing' in title else 'Trainer'))


def test_blessed_model_resolves_through_the_scoped_blessing(tmp_path):
  store = ArtifactStore(tmp_path / 'store.json')
  own_model = _add(store, 'tfx.Model', 'own-1')
  _add(store, 'tfx.ModelBlessing', 'own-1', blessed=1.0, pipeline_scope='chicago-taxi',
       current_model_id=own_model.name)
  other_model = _add(store, 'tfx.Model', 'other-1')
  _add(store, 'tfx.ModelBlessing', 'other-1', blessed=1.0,  # newer, another pipeline
       pipeline_scope='chicago-taxi-vertex-gpu', current_model_id=other_model.name)
  context = _context(tmp_path, store)
  for name in ('blessing', 'model'):
    tasks.run_resolver(context.job.tasks[name], context)
  assert context.produced[('model', 'model')] == [own_model]
  assert [r['pipeline_run'] for r in context.resolved] == ['own-1', 'own-1']


def test_nothing_blessed_resolves_nothing(tmp_path):
  store = ArtifactStore(tmp_path / 'store.json')
  _add(store, 'tfx.ModelBlessing', 'own-1', blessed=0.0, pipeline_scope='chicago-taxi')
  context = _context(tmp_path, store)
  for name in ('blessing', 'model'):
    tasks.run_resolver(context.job.tasks[name], context)
  assert context.produced[('model', 'model')] == []
  assert [r['artifact'] for r in context.resolved] == [None, None]


def test_importer_registers_once_unless_reimport(tmp_path):
  store = ArtifactStore(tmp_path / 'store.json')
  context = _context(tmp_path, store)
  task = context.job.tasks['schema']
  tasks.run_importer(task, context)
  (first,) = context.produced[('schema', 'result')]
  assert first.uri == str(tmp_path / 'gcs' / 'b' / 'schema')
  assert first.schema_title == 'tfx.Schema' and first.metadata == {'note': 'curated'}
  tasks.run_importer(task, context)
  assert context.produced[('schema', 'result')] == [first]
  task.executor['importer']['reimport'] = True
  tasks.run_importer(task, context)
  assert context.produced[('schema', 'result')][0].name != first.name


def test_bad_filter_fails_naming_the_task(tmp_path):
  store = ArtifactStore(tmp_path / 'store.json')
  context = _context(tmp_path, store)
  task = context.job.tasks['blessing']
  task.executor['resolver']['outputArtifactQueries']['model_blessing']['filter'] = (
      'schema_title="tfx.ModelBlessing" OR state=LIVE')
  with pytest.raises(ValueError, match='OR'):
    tasks.run_resolver(task, context)


def test_error_from_log_takes_the_last_exception_with_its_message():
  log = ('INFO starting\nTraceback (most recent call last):\n  File "x.py", line 1\n'
         'components.anomalies_gate.DataAnomaliesError: data validation found 1 anomaly:\n'
         '  [train] payment_type: ENUM_TYPE_UNEXPECTED_STRING_VALUES: Bitcoin\n')
  assert tasks.error_from_log(log).startswith('components.anomalies_gate.DataAnomaliesError: '
                                              'data validation found 1 anomaly:\n  [train]')
  assert tasks.error_from_log('no traceback here') == ''


@pytest.mark.integration  # A task subprocess importing TFX.
def test_a_module_missing_from_the_image_fails_as_on_vertex(tmp_path):
  """The task runs in a working directory outside the checkout with the package as installed:
  `tests` is in the checkout but not in the installed package (nor the image), so it fails."""
  import sys  # pylint: disable=import-outside-toplevel
  component = {'executorLabel': 'x_ex', 'outputDefinitions': {'artifacts': {
      'out': {'artifactType': {'schemaTitle': 'tfx.Examples'}}}}}
  container = {'image': 'img:1', 'command': [
      'python', '-m', 'tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor'],
               'args': ['--executor_class_path', 'tests.vertex_local.test_tasks.NoExecutor',
                        '--json_serialized_invocation_args', '{{$}}']}
  path = tmp_path / 'job.json'
  path.write_text(json.dumps({'pipelineSpec': {
      'pipelineInfo': {'name': 'p'}, 'components': {'x': component},
      'deploymentSpec': {'executors': {'x_ex': {'container': container}}},
      'root': {'dag': {'tasks': {'x': {'componentRef': {'name': 'x'}}}}}},
      'runtimeConfig': {'gcsOutputDirectory': str(tmp_path / 'root')}}))
  job = spec_lib.load(path)
  context = tasks.RunContext(
      job=job, run_id='run-1', store=ArtifactStore(tmp_path / 'store.json'),
      substitutions=Substitutions(tmp_path / 'gcs', tmp_path / 'pkg', None, sys.executable),
      produced={}, environment={'PATH': '/usr/bin:/bin', 'TF_CPP_MIN_LOG_LEVEL': '3'},
      task_log_dir=tmp_path / 'logs', contexts=[], log=lambda text: None)
  with pytest.raises(tasks.TaskFailed, match='x failed: ImportError: Could not import '
                                             'tests.vertex_local.test_tasks.NoExecutor'):
    tasks.run_container(job.tasks['x'], context)
  # The checkout's tests package is not visible from the task (another library's top-level
  # `tests` may be installed, so the miss is on the subpackage).
  log = (tmp_path / 'logs' / 'x.executor.log').read_text()
  assert "ModuleNotFoundError: No module named 'tests.vertex_local'" in log
