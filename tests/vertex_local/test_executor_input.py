"""The ExecutorInput builder against TFX's own testdata, and through TFX's own parser."""

import json
from pathlib import Path

import pytest
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2
from tfx.orchestration.kubeflow.v2 import container as v2_container
from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_entrypoint_utils as entrypoint

from vertex_local import executor_input
from vertex_local.store import StoredArtifact

TESTDATA = Path(v2_container.__file__).parent / 'testdata'


def _tfx_invocation():
  return json.loads((TESTDATA / 'executor_invocation.json').read_text())


def _build_like_tfx_testdata():
  """The inputs and outputs of TFX's executor_invocation.json, through our builder."""
  expected = _tfx_invocation()
  component = {'inputDefinitions': {'parameters': {'key_1': {'type': 'STRING'},
                                                   'key_2': {'type': 'INT'}},
                                    'artifacts': {}},
               'outputDefinitions': {'artifacts': {}}}
  inputs, outputs = {}, {}
  for key, listed in expected['inputs']['artifacts'].items():
    raw = listed['artifacts'][0]
    component['inputDefinitions']['artifacts'][key] = {'artifactType': raw['type']}
    inputs[key] = [StoredArtifact(name=raw['name'], schema_title='tfx.Examples', uri=raw['uri'],
                                  metadata=raw.get('metadata', {}))]
  for key, listed in expected['outputs']['artifacts'].items():
    raw = listed['artifacts'][0]
    component['outputDefinitions']['artifacts'][key] = {'artifactType': raw['type']}
    outputs[key] = StoredArtifact(name=raw['name'], schema_title='', uri=raw['uri'], metadata={})
  built = executor_input.build(component, {'key_1': 'value_1', 'key_2': 536870911}, inputs,
                               outputs, expected['outputs']['outputFile'])
  return built, expected


def test_matches_tfx_testdata_invocation():
  built, expected = _build_like_tfx_testdata()
  for artifacts in expected['inputs']['artifacts'].values():
    for artifact in artifacts['artifacts']:
      artifact.pop('createTimeSinceEpoch', None)  # an MLMD read-out, not part of the input
      artifact.setdefault('metadata', {})
  for artifacts in expected['outputs']['artifacts'].values():
    for artifact in artifacts['artifacts']:
      artifact.setdefault('metadata', {})
  assert built == expected


def test_tfx_parses_it_into_artifacts_with_ids_and_properties():
  built, _ = _build_like_tfx_testdata()
  message = json_format.ParseDict(built, pipeline_spec_pb2.ExecutorInput())
  name_from_id = {}
  inputs = entrypoint.parse_raw_artifact_dict(message.inputs.artifacts, name_from_id)
  (examples,) = inputs['input_1']
  assert examples.type_name == 'Examples'
  assert examples.uri == 'gs://root/input_1/'
  assert examples.get_string_custom_property('custom_property_1') == 'string property'
  # The name becomes the MLMD id TFX maps back to names (the Evaluator's current_model_id).
  assert name_from_id[examples.id].endswith('/artifacts/1')
  properties = entrypoint.parse_execution_properties(
      message.inputs.parameter_values, message.inputs.parameters)
  assert properties == {'key_1': 'value_1', 'key_2': 536870911}


def test_driver_parameters_are_typed_from_their_values():
  built = executor_input.build({}, {'span': 3.0, 'input_fingerprint': 'f', 'ratio': 0.5}, {}, {},
                               '/t/executor_output.json')
  assert built['inputs']['parameters'] == {'span': {'intValue': '3'},
                                           'input_fingerprint': {'stringValue': 'f'},
                                           'ratio': {'doubleValue': 0.5}}


def test_placeholders_are_filled_or_refused_naming_the_task():
  built, _ = _build_like_tfx_testdata()
  args = ['--json_serialized_invocation_args', '{{$}}',
          "{{$.inputs.parameters['key_1']}}", "{{$.outputs.artifacts['output'].uri}}",
          "{{$.inputs.artifacts['input_1'].metadata['custom_property_2']}}"]
  filled = [executor_input.fill(arg, built, "task 'T'") for arg in args]
  assert json.loads(filled[1]) == built
  assert filled[2:] == ['value_1', 'gs://root/output/', '42']
  with pytest.raises(executor_input.PlaceholderError, match="task 'T'.*not emulated"):
    executor_input.fill("{{$.pipeline_job_name}}", built, "task 'T'")
  with pytest.raises(executor_input.PlaceholderError, match="task 'T'.*does not have"):
    executor_input.fill("{{$.inputs.artifacts['missing'].uri}}", built, "task 'T'")
