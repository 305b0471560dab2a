"""components/scoped_evaluator.py: labels come from `transform_label`, or from
`transform_features` when the baseline model predates that signature."""

import json

import pytest
import tensorflow as tf
from tfx.types import standard_artifacts
from tfx.types import standard_component_specs
from tfx.utils import io_utils
from tfx.utils import proto_utils

import datadefs
from components import scoped_evaluator
from pipeline import graph
from trainer import signatures


def _model(tmp_path, name, signature_names):
  """A Model artifact whose Format-Serving SavedModel has the named signatures."""
  module = tf.Module()
  spec = tf.TensorSpec([None], tf.string, name='examples')
  functions = {}
  for signature in signature_names:
    function = tf.function(lambda examples: {'x': tf.strings.length(examples)},
                           input_signature=[spec])
    functions[signature] = function.get_concrete_function()
  model = standard_artifacts.Model()
  model.uri = str(tmp_path / name)
  tf.saved_model.save(module, str(tmp_path / name / 'Format-Serving'), signatures=functions)
  return model


def _properties():
  return {standard_component_specs.EVAL_CONFIG_KEY:
          proto_utils.proto_to_json(graph.eval_config(datadefs.load('taxi')))}


def _label_functions(properties):
  config = json.loads(properties[standard_component_specs.EVAL_CONFIG_KEY])
  return [spec['preprocessing_function_names'] for spec in config['model_specs']]


def test_the_eval_config_reads_labels_from_transform_label():
  assert _label_functions(_properties()) == [[signatures.LABEL_SIGNATURE]]


def test_no_baseline_keeps_transform_label():
  properties = _properties()
  assert scoped_evaluator.for_older_baseline(properties, {}) is properties


def test_a_baseline_with_transform_label_keeps_it(tmp_path):
  baseline = _model(tmp_path, 'new', ['serving_default', 'transform_features', 'transform_label'])
  properties = _properties()
  assert scoped_evaluator.for_older_baseline(
      properties, {standard_component_specs.BASELINE_MODEL_KEY: [baseline]}) is properties


def test_an_older_baseline_makes_both_models_use_transform_features(tmp_path):
  baseline = _model(tmp_path, 'old', ['serving_default', 'transform_features'])
  properties = scoped_evaluator.for_older_baseline(
      _properties(), {standard_component_specs.BASELINE_MODEL_KEY: [baseline]})
  assert _label_functions(properties) == [[signatures.FEATURES_SIGNATURE]]


def test_a_baseline_that_is_not_a_saved_model_fails_naming_the_path(tmp_path):
  baseline = standard_artifacts.Model()
  baseline.uri = str(tmp_path / 'missing')
  with pytest.raises(OSError, match='missing'):
    scoped_evaluator.for_older_baseline(
        _properties(), {standard_component_specs.BASELINE_MODEL_KEY: [baseline]})


def _schema_artifact(tmp_path):
  schema = standard_artifacts.Schema()
  schema.uri = str(tmp_path / 'schema')
  io_utils.write_pbtxt_file(
      str(tmp_path / 'schema' / 'schema.pbtxt'),
      io_utils.SchemaReader().read(datadefs.load('taxi').schema_path))
  return schema


def test_the_schema_is_narrowed_to_the_decoded_features(tmp_path):
  examples = standard_artifacts.Examples()
  inputs = {standard_component_specs.EXAMPLES_KEY: [examples],
            standard_component_specs.SCHEMA_KEY: [_schema_artifact(tmp_path)]}
  narrowed = scoped_evaluator.narrowed_schema(inputs, ['tips'], str(tmp_path / 'tmp'))
  [schema] = narrowed[standard_component_specs.SCHEMA_KEY]
  assert schema.uri.startswith(str(tmp_path / 'tmp'))
  read = io_utils.SchemaReader().read(io_utils.get_only_uri_in_dir(schema.uri))
  assert [feature.name for feature in read.feature] == ['tips']
  assert narrowed[standard_component_specs.EXAMPLES_KEY] == [examples]
  # The pipeline's schema artifact is left as it was.
  original = inputs[standard_component_specs.SCHEMA_KEY][0]
  assert len(io_utils.SchemaReader().read(
      io_utils.get_only_uri_in_dir(original.uri)).feature) > 1


def test_without_a_schema_nothing_is_narrowed(tmp_path):
  inputs = {standard_component_specs.EXAMPLES_KEY: [standard_artifacts.Examples()]}
  assert scoped_evaluator.narrowed_schema(inputs, ['tips'], str(tmp_path)) is inputs


def test_a_decoded_feature_the_schema_lacks_fails_naming_it(tmp_path):
  inputs = {standard_component_specs.SCHEMA_KEY: [_schema_artifact(tmp_path)]}
  with pytest.raises(ValueError, match=r"decoded_features \['tip'\] are not in the schema"):
    scoped_evaluator.narrowed_schema(inputs, ['tip', 'fare'], str(tmp_path / 'tmp'))
