"""Reading a compiled PipelineJob: edges from dependentTasks and input producers, refusals."""

import json

import pytest

from vertex_local import spec as spec_lib


def _job(tasks, executors=None, components=None):
  components = components or {name: {'executorLabel': f'{name}_executor'} for name in tasks}
  executors = executors or {f'{name}_executor': {'container': {'image': 'img:1'}}
                            for name in tasks}
  return {'pipelineSpec': {'pipelineInfo': {'name': 'p'}, 'components': components,
                           'deploymentSpec': {'executors': executors},
                           'root': {'dag': {'tasks': tasks}}},
          'runtimeConfig': {'gcsOutputDirectory': 'gs://b/root'}}


def _write(tmp_path, job):
  path = tmp_path / 'job.json'
  path.write_text(json.dumps(job))
  return path


def test_model_resolver_waits_for_the_blessing_resolver_through_its_input(tmp_path):
  # As compiled: '-model-resolver' has no dependentTasks, only an input from the other.
  tasks = {
      'a-model-resolver': {'componentRef': {'name': 'a-model-resolver'}, 'inputs': {
          'artifacts': {'input': {'taskOutputArtifact': {
              'producerTask': 'z-blessing-resolver', 'outputArtifactKey': 'model_blessing'}}}}},
      'z-blessing-resolver': {'componentRef': {'name': 'z-blessing-resolver'}},
      'Evaluator': {'componentRef': {'name': 'Evaluator'},
                    'dependentTasks': ['a-model-resolver']},
  }
  job = spec_lib.load(_write(tmp_path, _job(tasks)))
  assert job.order == ('z-blessing-resolver', 'a-model-resolver', 'Evaluator')
  assert job.tasks['a-model-resolver'].dependencies == ('z-blessing-resolver',)


@pytest.mark.parametrize('change, message', [
    (lambda j: j['pipelineSpec']['root']['dag']['tasks']['A'].update(triggerPolicy={}),
     "task 'A' uses ['triggerPolicy']"),
    (lambda j: j['pipelineSpec']['root']['dag']['tasks']['A'].update(dependentTasks=['nope']),
     "task 'A' depends on 'nope'"),
    (lambda j: j['pipelineSpec']['root']['dag']['tasks']['A'].update(dependentTasks=['B']) or
     j['pipelineSpec']['root']['dag']['tasks']['B'].update(dependentTasks=['A']), 'cycle'),
    (lambda j: j['pipelineSpec']['components']['A'].update(dag={}), "task 'A' is a sub-DAG"),
])
def test_what_cannot_be_run_is_refused_naming_the_task(tmp_path, change, message):
  job = _job({'A': {'componentRef': {'name': 'A'}}, 'B': {'componentRef': {'name': 'B'}}})
  change(job)
  with pytest.raises(spec_lib.SpecError) as error:
    spec_lib.load(_write(tmp_path, job))
  assert message in str(error.value)


def test_missing_or_foreign_files_are_named(tmp_path):
  with pytest.raises(spec_lib.SpecError, match='does not exist: compile one'):
    spec_lib.load(tmp_path / 'nope.json')
  (tmp_path / 'x.json').write_text('{"components": {}}')
  with pytest.raises(spec_lib.SpecError, match='not a compiled PipelineJob'):
    spec_lib.load(tmp_path / 'x.json')



def _constant(value):
  return {'runtimeValue': {'constantValue': {'stringValue': json.dumps(value)}}}


@pytest.mark.parametrize('splits, pattern', [
    ([{'name': 'single_split', 'pattern': 'penguins.csv'}], 'penguins.csv'),
    ([{'name': 'single_split', 'pattern': 'span-{SPAN}/*'}], 'span-{SPAN}/*'),
    ([{'name': 'single_split', 'pattern': '*'}], None),
])
def test_the_pre_check_reads_the_spec_s_dataset_and_input_pattern(tmp_path, splits, pattern):
  import datadefs  # pylint: disable=import-outside-toplevel
  from vertex_local import run  # pylint: disable=import-outside-toplevel
  penguins = datadefs.load('penguins')
  tasks = {
      'CsvExampleGen': {'componentRef': {'name': 'CsvExampleGen'}, 'inputs': {'parameters': {
          'input_config': _constant({'splits': splits})}}},
      'Transform': {'componentRef': {'name': 'Transform'}, 'inputs': {'parameters': {
          'custom_config': _constant({'num_shards': 8, **penguins.to_custom_config()})}}},
  }
  job = spec_lib.load(_write(tmp_path, _job(tasks)))
  assert run.input_pattern_of_spec(job) == pattern
  assert run.dataset_of_spec(job).name == 'penguins'
  assert run.dataset_of_spec(spec_lib.load(_write(tmp_path, _job(
      {'Trainer': {'componentRef': {'name': 'Trainer'}}})))) is None
