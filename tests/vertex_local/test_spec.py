"""Reading a compiled PipelineJob: edges from dependentTasks and input producers, pipeline
parameters as Vertex resolves them, refusals of what cannot run and of malformed specs."""

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
  job = _job(tasks)
  job['pipelineSpec']['components']['z-blessing-resolver']['outputDefinitions'] = {
      'artifacts': {'model_blessing': {'artifactType': {'schemaTitle': 'tfx.ModelBlessing'}}}}
  job = spec_lib.load(_write(tmp_path, job))
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
    (lambda j: j['pipelineSpec']['root']['dag'].update(
        tasks=list(j['pipelineSpec']['root']['dag']['tasks'].values())),
     'root.dag.tasks must be a map of task name to task (as pipeline_spec.proto declares it), '
     'got a list'),
    (lambda j: j['pipelineSpec']['deploymentSpec']['executors']['A_executor']['container'].pop(
        'image'), "task 'A': executor 'A_executor' has no container image"),
    (lambda j: j['pipelineSpec']['root']['dag']['tasks']['B'].update(inputs={'artifacts': {
        'examples': {'taskOutputArtifact': {'producerTask': 'A', 'outputArtifactKey': 'nope'}}}}),
     "task 'B' input 'examples' takes output 'nope' of task 'A', which has no such output (it "
     "has ['examples'])"),
    (lambda j: j['pipelineSpec'].update(schemaVersion='3.0.0'),
     "pipeline spec schemaVersion '3.0.0' is not supported (the local engine runs 2.0.0 and "
     '2.1.0'),
    (lambda j: j['runtimeConfig'].update(failurePolicy='SOMETIMES'), "failurePolicy 'SOMETIMES'"),
])
def test_what_cannot_be_run_is_refused_naming_the_task(tmp_path, change, message):
  job = _job({'A': {'componentRef': {'name': 'A'}}, 'B': {'componentRef': {'name': 'B'}}})
  job['pipelineSpec']['components']['A']['outputDefinitions'] = {'artifacts': {
      'examples': {'artifactType': {'schemaTitle': 'tfx.Examples'}}}}
  spec_lib.load(_write(tmp_path, job))  # valid before the change
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


def _parameter_job(root_parameters, runtime, task_parameters, component_parameters=None):
  job = _job({'A': {'componentRef': {'name': 'A'}, 'inputs': {'parameters': task_parameters}}})
  job['pipelineSpec']['root']['inputDefinitions'] = {'parameters': root_parameters}
  job['pipelineSpec']['components']['A']['inputDefinitions'] = {
      'parameters': component_parameters or {}}
  job['runtimeConfig'].update(runtime)
  return job


def _value(tmp_path, job, key, **load):
  loaded = spec_lib.load(_write(tmp_path, job), **load)
  return spec_lib.constant_parameter(loaded.tasks['A'], key, loaded)


def test_schema_2_0_runtime_parameters_are_typed_values(tmp_path):
  """TFX 1.16 writes schema 2.0.0: runtimeConfig.parameters {name: {intValue: "6"}}."""
  job = _parameter_job(
      {'steps': {'type': 'INT'}, 'root': {'type': 'STRING'}, 'rate': {'type': 'DOUBLE'}},
      {'parameters': {'steps': {'intValue': '6'}, 'root': {'stringValue': 'gs://b/d'},
                      'rate': {'doubleValue': 0.5}}},
      {'train_steps': {'componentInputParameter': 'steps'},
       'input_base': {'componentInputParameter': 'root'},
       'rate': {'componentInputParameter': 'rate'}})
  assert _value(tmp_path, job, 'train_steps') == 6
  assert _value(tmp_path, job, 'input_base') == 'gs://b/d'
  assert _value(tmp_path, job, 'rate') == 0.5
  loaded = spec_lib.load(_write(tmp_path, job))
  assert loaded.parameter_values == {'steps': 6, 'root': 'gs://b/d', 'rate': 0.5}


def test_precedence_default_then_parameters_then_parameter_values_then_the_run(tmp_path):
  root = {'a': {'parameterType': 'NUMBER_INTEGER', 'defaultValue': 1},
          'b': {'parameterType': 'NUMBER_INTEGER', 'defaultValue': 1},
          'c': {'parameterType': 'NUMBER_INTEGER', 'defaultValue': 1},
          'd': {'parameterType': 'NUMBER_INTEGER', 'defaultValue': 1}}
  runtime = {'parameters': {'b': {'intValue': '2'}, 'c': {'intValue': '2'}, 'd': {'intValue': '2'}},
             'parameterValues': {'c': 3, 'd': 3}}
  inputs = {key: {'componentInputParameter': key} for key in 'abcd'}
  job = _parameter_job(root, runtime, inputs)
  loaded = spec_lib.load(_write(tmp_path, job), parameter_values={'d': '4'})
  assert loaded.parameter_values == {'a': 1, 'b': 2, 'c': 3, 'd': 4}  # '4' typed as declared


def test_spec_2_1_constants_are_typed_by_the_component(tmp_path):
  """Spec 2.1 writes every number as a JSON double: 6.0 is 6 for an integer parameter."""
  job = _parameter_job({}, {}, {'n': {'runtimeValue': {'constant': 6.0}}},
                       {'n': {'parameterType': 'NUMBER_INTEGER'}})
  value = _value(tmp_path, job, 'n')
  assert value == 6 and isinstance(value, int)


@pytest.mark.parametrize('root, overrides, message', [
    ({'steps': {'type': 'INT'}}, {'nope': '1'},
     "The pipeline parameter nope is not found in the pipeline job input definitions (it "
     "declares ['steps'])."),
    ({'steps': {'type': 'INT'}}, {'steps': 'many'},
     "pipeline parameter 'steps' is declared INT: 'many' is not a whole number"),
    ({'on': {'parameterType': 'BOOLEAN'}}, {'on': 'yes'},
     "pipeline parameter 'on' is declared BOOLEAN: 'yes' is not true or false"),
])
def test_bad_parameter_values_are_refused_naming_the_parameter(tmp_path, root, overrides,
                                                              message):
  job = _parameter_job(root, {}, {})
  with pytest.raises(spec_lib.SpecError) as error:
    spec_lib.load(_write(tmp_path, job), parameter_values=overrides)
  assert message in str(error.value)


def test_a_parameter_without_any_value_says_how_to_set_it(tmp_path):
  job = _parameter_job({'root': {'type': 'STRING'}}, {},
                       {'input_base': {'componentInputParameter': 'root'}})
  with pytest.raises(spec_lib.SpecError, match=r"pipeline parameter 'root', which has no value "
                     r'.*--param root=VALUE'):
    _value(tmp_path, job, 'input_base')


def test_caching_and_failure_policy_overrides(tmp_path):
  job = _job({'A': {'componentRef': {'name': 'A'}, 'cachingOptions': {'enableCache': True}},
              'B': {'componentRef': {'name': 'B'}}})
  path = _write(tmp_path, job)
  loaded = spec_lib.load(path)
  assert (loaded.tasks['A'].enable_cache, loaded.tasks['B'].enable_cache) == (True, False)
  assert not loaded.fail_fast  # unset: Vertex fails slow
  assert not any(t.enable_cache for t in spec_lib.load(path, enable_cache=False).tasks.values())
  assert all(t.enable_cache for t in spec_lib.load(path, enable_cache=True).tasks.values())
  assert spec_lib.load(path, failure_policy='fast').fail_fast
  job['runtimeConfig']['failurePolicy'] = 'PIPELINE_FAILURE_POLICY_FAIL_FAST'
  assert spec_lib.load(_write(tmp_path, job)).fail_fast
  job['runtimeConfig']['failurePolicy'] = 1  # the enum's number, as JSON may carry it
  assert not spec_lib.load(_write(tmp_path, job)).fail_fast
