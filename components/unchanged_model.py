"""Nothing new, nothing done: when the candidate model is the blessed baseline itself (every step
up to the Trainer was served from cache), the Evaluator re-evaluates nothing and the Pusher
pushes nothing, on LocalDagRunner and on Vertex alike.

Without this, a run with no new data compares the model with itself (tens of seconds of TFMA)
and pushes it again: a new version folder locally, and on Vertex a duplicate Model Registry
upload and endpoint deployment on every scheduled run.

The Evaluator (components/scoped_evaluator.py) writes the blessing as TFX would for a blessed
model, plus `unchanged_model=1`; the Pushers below skip a blessing so marked.
"""

from typing import Any, Dict, List

from absl import logging
from tfx import types
from tfx.components.evaluator import constants as evaluator_constants
from tfx.components.pusher import component as pusher_component
from tfx.components.pusher import executor as pusher_executor
from tfx.dsl.components.base import executor_spec
from tfx.dsl.io import fileio
from tfx.types import artifact_utils
from tfx.types import standard_component_specs

from core.names import UNCHANGED_MODEL_KEY


def is_unchanged(artifact: types.Artifact) -> bool:
  """Whether a blessing (or pushed-model) artifact says its model was already the baseline."""
  if not artifact.has_custom_property(UNCHANGED_MODEL_KEY):
    return False
  return artifact.get_custom_property(UNCHANGED_MODEL_KEY) == 1  # int locally, 1.0 on Vertex


def candidate_is_baseline(input_dict: Dict[str, List[types.Artifact]]) -> bool:
  baseline = input_dict.get(standard_component_specs.BASELINE_MODEL_KEY) or []
  model = input_dict.get(standard_component_specs.MODEL_KEY) or []
  return bool(baseline and model and baseline[0].uri == model[0].uri)


def bless_unchanged(input_dict: Dict[str, List[types.Artifact]],
                    output_dict: Dict[str, List[types.Artifact]]) -> None:
  """Writes the blessing of a candidate that is the blessed baseline: blessed (it was), with the
  model ids TFX's Evaluator sets, and `unchanged_model=1`; no evaluation is run or written."""
  model = input_dict[standard_component_specs.MODEL_KEY][0]
  blessing = artifact_utils.get_single_instance(
      output_dict[standard_component_specs.BLESSING_KEY])
  blessing.set_string_custom_property(
      evaluator_constants.ARTIFACT_PROPERTY_CURRENT_MODEL_URI_KEY, model.uri)
  blessing.set_int_custom_property(
      evaluator_constants.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY, model.id)
  blessing.set_string_custom_property(
      evaluator_constants.ARTIFACT_PROPERTY_BASELINE_MODEL_URI_KEY, model.uri)
  blessing.set_int_custom_property(
      evaluator_constants.ARTIFACT_PROPERTY_BASELINE_MODEL_ID_KEY, model.id)
  fileio.makedirs(blessing.uri)
  with fileio.open(f'{blessing.uri}/{evaluator_constants.BLESSED_FILE_NAME}', 'w') as f:
    f.write('')
  blessing.set_int_custom_property(evaluator_constants.ARTIFACT_PROPERTY_BLESSED_KEY,
                                   evaluator_constants.BLESSED_VALUE)
  blessing.set_int_custom_property(UNCHANGED_MODEL_KEY, 1)
  logging.info('The candidate model %s is the blessed baseline: nothing to evaluate', model.uri)


class SkipUnchanged:
  """Pusher executor mixin: a blessing marked unchanged_model pushes nothing."""

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]],
         exec_properties: Dict[str, Any]) -> None:
    blessings = input_dict.get(standard_component_specs.MODEL_BLESSING_KEY) or []
    if blessings and is_unchanged(blessings[0]):
      model_push = artifact_utils.get_single_instance(
          output_dict[standard_component_specs.PUSHED_MODEL_KEY])
      self._MarkNotPushed(model_push)  # pylint: disable=no-member
      model_push.set_int_custom_property(UNCHANGED_MODEL_KEY, 1)
      logging.info('The model is unchanged since it was blessed and pushed: nothing to push')
      return
    super().Do(input_dict, output_dict, exec_properties)  # pylint: disable=no-member


class PusherExecutor(SkipUnchanged, pusher_executor.Executor):
  """TFX's Pusher (to a folder), skipping an unchanged model. The Vertex AI Pusher (Model
  Registry + endpoint) is components/vertex_pusher.py."""


class Pusher(pusher_component.Pusher):
  EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(PusherExecutor)
