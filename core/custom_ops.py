"""The TensorFlow ops a SavedModel uses beyond stock TensorFlow's, and the library that registers
them, imported only when the model at hand uses them.

Gradient-boosted tree models (model = "gradient_boosted_trees", TensorFlow Decision Forests)
save TF-DF's inference ops (SimpleMLCreateModelResource, SimpleMLInferenceOpWithHandle, ...).
Stock TensorFlow, and so stock TF Serving, does not have them: loading such a model fails with
"Op type not registered 'SimpleML...'" unless `tensorflow_decision_forests` was imported first.
Every place that loads a trained model (the Evaluator, serving/) calls `load_for` first.
"""

import importlib
import posixpath
from typing import Iterable, Set, Tuple

# Op name prefix -> the module whose import registers those ops.
OP_LIBRARIES = {'SimpleML': 'tensorflow_decision_forests'}


class MissingOpLibraryError(RuntimeError):
  """The model uses ops of a library that is not installed here; the message names both."""


def saved_model_ops(saved_model_dir: str) -> Set[str]:
  """Every op type the SavedModel's graphs and functions use (read from saved_model.pb, without
  loading the model)."""
  # pylint: disable=import-outside-toplevel,g-direct-tensorflow-import
  from tensorflow.python.saved_model import loader_impl
  saved_model = loader_impl.parse_saved_model(saved_model_dir)
  ops = set()
  for graph in saved_model.meta_graphs:
    ops.update(node.op for node in graph.graph_def.node)
    for function in graph.graph_def.library.function:
      ops.update(node.op for node in function.node_def)
  return ops


def libraries_for(ops: Iterable[str]) -> Tuple[str, ...]:
  """The modules (OP_LIBRARIES) whose import registers some of `ops`, sorted."""
  return tuple(sorted({module for op in ops for prefix, module in OP_LIBRARIES.items()
                       if op.startswith(prefix)}))


def load_for(saved_model_dir: str) -> Tuple[str, ...]:
  """Imports the libraries registering the custom ops the SavedModel at `saved_model_dir` uses;
  returns their module names (() for a model of stock ops only, which imports nothing).

  Raises MissingOpLibraryError when such a library is not installed.
  """
  if not _exists(posixpath.join(saved_model_dir, 'saved_model.pb')):
    return ()  # Not a SavedModel folder: the caller's own load says so.
  modules = libraries_for(saved_model_ops(saved_model_dir))
  for module in modules:
    try:
      importlib.import_module(module)
    except ImportError as error:
      raise MissingOpLibraryError(
          f'{saved_model_dir} uses ops of {module}, which does not import here ({error}): '
          f'install the locked {module} (requirements.lock) to load this model') from error
  return modules


def _exists(path: str) -> bool:
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  return tf.io.gfile.exists(path)
