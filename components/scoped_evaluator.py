"""ScopedEvaluator: TFX's Evaluator whose blessing is stamped with the pipeline it was made for,
and which evaluates nothing when the candidate model is the blessed baseline itself
(components/unchanged_model.py).

The latest-blessed-model resolver of the next run looks the blessing up by that stamp, so on
Vertex (one ML Metadata store for every pipeline of a project) another pipeline's model can
never become this pipeline's baseline. See components/pipeline_scope.py.

TFMA decodes every feature of the schema it is given (all of them, types inferred per batch,
when given none) into each example's extracts, though the models read serialized examples and
the labels come from a signature. Given `decoded_features`, the Evaluator decodes only those
(the schema's copy narrowed to them).
"""

import os
from typing import Any, Dict, List, Optional, Sequence

import tensorflow_model_analysis as tfma
from tfx import types
from tfx.components.evaluator import component as evaluator_component
from tfx.components.evaluator import executor as evaluator_executor
from tfx.dsl.components.base import base_beam_component
from tfx.dsl.components.base import executor_spec
from tfx.types import artifact_utils
from tfx.types import component_spec
from tfx.types import standard_artifacts
from tfx.types import standard_component_specs
from tfx.utils import io_utils
from tfx.utils import json_utils
from tfx.utils import path_utils
from tfx.utils import proto_utils
from tensorflow.python.saved_model import loader_impl  # pylint: disable=g-direct-tensorflow-import; the signatures without loading the model

from components import custom_op_models
from components import direct_runner
from components import pipeline_scope
from components import unchanged_model
from core import custom_ops
from core.names import FEATURES_SIGNATURE, LABEL_SIGNATURE


DECODED_FEATURES_KEY = 'decoded_features'


class ScopedEvaluatorSpec(standard_component_specs.EvaluatorSpec):
  PARAMETERS = {
      **standard_component_specs.EvaluatorSpec.PARAMETERS,
      pipeline_scope.PIPELINE_SCOPE_KEY: component_spec.ExecutionParameter(type=str),
      # JSON list of the schema's features TFMA decodes; empty: all of the schema's.
      DECODED_FEATURES_KEY: component_spec.ExecutionParameter(type=str, optional=True),
  }


class ScopedEvaluatorExecutor(direct_runner.ScaledDirectRunnerMixin, evaluator_executor.Executor):
  """The stock Evaluator (on every core for large inputs: components/direct_runner.py), then
  the blessing stamped with the pipeline scope."""

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]],
         exec_properties: Dict[str, Any]) -> None:
    exec_properties = dict(exec_properties)
    scope = exec_properties.pop(pipeline_scope.PIPELINE_SCOPE_KEY, '')
    decoded = json_utils.loads(exec_properties.pop(DECODED_FEATURES_KEY, None) or 'null')
    if unchanged_model.candidate_is_baseline(input_dict):
      unchanged_model.bless_unchanged(input_dict, output_dict)  # Nothing new: no TFMA run.
    else:
      self.scale_to_input(input_dict, standard_component_specs.EXAMPLES_KEY)
      if decoded:
        input_dict = narrowed_schema(input_dict, decoded, self._get_tmp_dir())
      exec_properties = with_custom_op_models(exec_properties, input_dict)
      super().Do(input_dict, output_dict, for_older_baseline(exec_properties, input_dict))
    blessing = artifact_utils.get_single_instance(
        output_dict[standard_component_specs.BLESSING_KEY])
    pipeline_scope.stamp(blessing, scope)


def with_custom_op_models(exec_properties: Dict[str, Any],
                          input_dict: Dict[str, List[types.Artifact]]) -> Dict[str, Any]:
  """exec_properties, loading the models through components/custom_op_models.py when the
  candidate or the baseline uses custom ops (gradient-boosted trees: core/custom_ops.py), unless
  a module of the user's is named."""
  if (exec_properties.get(standard_component_specs.MODULE_PATH_KEY) or
      exec_properties.get(standard_component_specs.MODULE_FILE_KEY)):
    return exec_properties
  models = [*input_dict.get(standard_component_specs.MODEL_KEY, []),
            *(input_dict.get(standard_component_specs.BASELINE_MODEL_KEY) or [])]
  if not any(custom_ops.load_for(path_utils.serving_model_path(model.uri)) for model in models):
    return exec_properties
  return {**exec_properties,
          standard_component_specs.MODULE_PATH_KEY: custom_op_models.__name__}


def for_older_baseline(exec_properties: Dict[str, Any],
                       input_dict: Dict[str, List[types.Artifact]]) -> Dict[str, Any]:
  """exec_properties, reading labels through `transform_features` instead of `transform_label`
  when the baseline model was saved before the Trainer added the latter
  (trainer/signatures.py): TFMA calls the same functions on both models."""
  baseline = input_dict.get(standard_component_specs.BASELINE_MODEL_KEY) or []
  if not baseline:
    return exec_properties
  saved_model = loader_impl.parse_saved_model(path_utils.serving_model_path(baseline[0].uri))
  if LABEL_SIGNATURE in saved_model.meta_graphs[0].signature_def:
    return exec_properties
  eval_config = proto_utils.json_to_proto(
      exec_properties[standard_component_specs.EVAL_CONFIG_KEY], tfma.EvalConfig())
  for spec in eval_config.model_specs:
    names = [FEATURES_SIGNATURE if name == LABEL_SIGNATURE else name
             for name in spec.preprocessing_function_names]
    del spec.preprocessing_function_names[:]
    spec.preprocessing_function_names.extend(names)
  return {**exec_properties,
          standard_component_specs.EVAL_CONFIG_KEY: proto_utils.proto_to_json(eval_config)}


def narrowed_schema(input_dict: Dict[str, List[types.Artifact]], features: Sequence[str],
                    tmp_dir: str) -> Dict[str, List[types.Artifact]]:
  """input_dict with its schema narrowed to `features`, written under tmp_dir. Unchanged without
  a schema; names the schema lacks are an error (decoding nothing would decode everything)."""
  schemas = input_dict.get(standard_component_specs.SCHEMA_KEY) or []
  if not schemas:
    return input_dict
  schema = io_utils.SchemaReader().read(
      io_utils.get_only_uri_in_dir(artifact_utils.get_single_uri(schemas)))
  missing = sorted(set(features) - {feature.name for feature in schema.feature})
  if missing:
    raise ValueError(f'decoded_features {missing} are not in the schema at {schemas[0].uri}: '
                     f'name features the schema has, or pass no decoded_features')
  kept = [feature for feature in schema.feature if feature.name in features]
  del schema.feature[:]
  schema.feature.extend(kept)
  narrowed = standard_artifacts.Schema()
  narrowed.uri = os.path.join(tmp_dir, 'decoded_schema')
  io_utils.write_pbtxt_file(os.path.join(narrowed.uri, 'schema.pbtxt'), schema)
  return {**input_dict, standard_component_specs.SCHEMA_KEY: [narrowed]}


class ScopedEvaluator(evaluator_component.Evaluator):
  """Evaluator(examples, model, baseline_model, eval_config) plus `scope`, the pipeline name,
  and `schema` with `decoded_features` (see the module docstring)."""

  SPEC_CLASS = ScopedEvaluatorSpec
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(ScopedEvaluatorExecutor)

  def __init__(self, *, examples: types.BaseChannel, model: types.BaseChannel,
               eval_config: tfma.EvalConfig, scope: str,
               baseline_model: Optional[types.BaseChannel] = None,
               schema: Optional[types.BaseChannel] = None,
               decoded_features: Sequence[str] = ()):
    pipeline_scope.filter_clause(scope)  # Refuses a scope a filter cannot quote.
    # The stock Evaluator.__init__ builds its own EvaluatorSpec; this is the same spec for
    # these arguments (no slicing spec, thresholds, splits or module), plus the scope.
    spec = ScopedEvaluatorSpec(
        examples=examples, model=model, baseline_model=baseline_model,
        feature_slicing_spec=None,
        fairness_indicator_thresholds=json_utils.dumps(None),
        example_splits=json_utils.dumps(None),
        evaluation=types.Channel(type=standard_artifacts.ModelEvaluation),
        eval_config=eval_config,
        blessing=types.Channel(type=standard_artifacts.ModelBlessing),
        schema=schema, module_file=None, module_path=None,
        **{pipeline_scope.PIPELINE_SCOPE_KEY: scope,
           DECODED_FEATURES_KEY: json_utils.dumps(list(decoded_features))})
    base_beam_component.BaseBeamComponent.__init__(self, spec=spec)
