"""The Evaluator's model loading (TFX's `custom_eval_shared_model` hook) for models that use
custom TensorFlow ops, such as gradient-boosted trees' TF-DF ops (core/custom_ops.py).

TFMA loads each model where its Beam workers run: in this process, or, for large inputs, in
worker processes of their own (components/direct_runner.py) that have not imported TF-DF.
`custom_eval_shared_model` is TFMA's default model, whose loading function first imports the
library registering the model's ops; the function is pickled to the workers by reference to
this module, so each worker registers the ops before it loads the model.
ScopedEvaluatorExecutor (components/scoped_evaluator.py) names this module as the Evaluator's
`module_path` when the candidate or the baseline uses custom ops.
"""

from typing import Any, Callable

import tensorflow_model_analysis as tfma

from core import custom_ops


class LoadingCustomOps:
  """A TFMA model construct function that registers the model's custom ops first."""

  def __init__(self, saved_model_dir: str, construct_fn: Callable[[], Any]):
    self.saved_model_dir = saved_model_dir
    self.construct_fn = construct_fn

  def __call__(self) -> Any:
    custom_ops.load_for(self.saved_model_dir)
    return self.construct_fn()


def custom_eval_shared_model(eval_saved_model_path: str, model_name: str,
                             eval_config: tfma.EvalConfig, **kwargs) -> tfma.types.EvalSharedModel:
  """tfma.default_eval_shared_model, whose model loads after its custom ops are registered."""
  custom_ops.load_for(eval_saved_model_path)  # Here too: TFMA reads signatures in this process.
  shared = tfma.default_eval_shared_model(eval_saved_model_path=eval_saved_model_path,
                                          model_name=model_name, eval_config=eval_config,
                                          **kwargs)
  loader = shared.model_loader
  loader.construct_fn = LoadingCustomOps(eval_saved_model_path, loader.construct_fn)
  return shared
