"""A pushed model, loaded to answer predictions: its SavedModel's serving_default (serialized raw
tf.Examples in, the model's outputs out) and the dataset definition it carries
(core.names.MODEL_DATASET_FILE), which says how a raw row becomes a tf.Example. An image
dataset's instances are encoded images, answered by its serving_bytes signature.

Gradient-boosted tree models (TensorFlow Decision Forests) save ops that only TF-DF registers
(stock TensorFlow and TF Serving lack them): when the model uses them, TF-DF is imported before
the model loads (core/custom_ops.py), so such a model loads here as it does in the trainer; a
model of stock ops imports nothing more.
"""

import dataclasses
import json
import posixpath
import re
from typing import Any, Dict, List, Sequence

import numpy as np
import tensorflow as tf

from core import custom_ops
from core.names import BYTES_SIGNATURE, MODEL_DATASET_FILE, SERVING_SIGNATURE
from datadefs.definition import Dataset
from datadefs.images.spec import SERVING_BYTES_INPUT
from serving import instances as instances_lib

# TensorFlow wraps error messages in "{{function_node ...}} " and "\n\t [[...]] [Op:...]".
_TF_ERROR_WRAPPING = re.compile(r'\{\{.*?\}\}\s*|\s*\[\[.*$|\s*\[Op:.*$', re.DOTALL)


class ModelLoadError(RuntimeError):
  """The folder is not a model this package can serve; the message says what is missing."""


@dataclasses.dataclass
class ServedModel:
  path: str
  dataset: Dataset
  signature: Any  # the loaded serving_default concrete function
  _keep: Any  # the loaded SavedModel object, kept alive while its function is used
  # An image dataset's serving_bytes concrete function (None for a table).
  bytes_signature: Any = None

  def predict_examples(self, examples: Sequence[bytes]) -> List[Any]:
    """The model's prediction for each serialized tf.Example, as TF Serving's row format
    returns it: the single output's row as a list (or a number), several outputs as a dict."""
    if not examples:
      return []
    try:
      outputs = self.signature(examples=tf.constant(list(examples), dtype=tf.string))
    except tf.errors.InvalidArgumentError as error:
      # What ParseExample says of a row without a value its schema requires, e.g. "Key:
      # trip_start_timestamp, Index: 0.  Number of int64 values != expected.  Values size: 0".
      found = re.search(r'Key: ([^,]+), Index: (\d+)\.\s+([^\n]+)', error.message)
      if not found:
        raise
      raise instances_lib.InstanceError(
          f'instance {found.group(2)}: column {found.group(1)!r} has no value, and the model '
          f'needs one (its schema says the column is always present): '
          f'{found.group(3).strip()}') from None
    rows: Dict[str, np.ndarray] = {name: tensor.numpy() for name, tensor in outputs.items()}
    predictions = []
    for index in range(len(examples)):
      row = {name: _plain(values[index]) for name, values in rows.items()}
      predictions.append(next(iter(row.values())) if len(row) == 1 else row)
    return predictions

  def predict_images(self, images: Sequence[bytes]) -> List[Dict[str, Any]]:
    """{'probabilities': [...], 'classes': class name} for each encoded image; InstanceError
    names the first image that does not decode."""
    if not images:
      return []
    try:
      outputs = self._call_bytes(images)
    except tf.errors.InvalidArgumentError:
      # The batch's error does not say which image: find it, one image at a time.
      for index, image in enumerate(images):
        try:
          self._call_bytes([image])
        except tf.errors.InvalidArgumentError as error:
          raise instances_lib.InstanceError(
              f'instance {index}: not a decodable image (JPEG, PNG, BMP or GIF): '
              f'{_TF_ERROR_WRAPPING.sub("", error.message)}') from None
      raise
    rows = {name: tensor.numpy() for name, tensor in outputs.items()}
    return [{name: _plain(values[index]) for name, values in rows.items()}
            for index in range(len(images))]

  def _call_bytes(self, images: Sequence[bytes]):
    return self.bytes_signature(**{SERVING_BYTES_INPUT: tf.constant(list(images), tf.string)})

  def predict(self, instances: Sequence[Any]) -> List[Any]:
    """Predictions for raw rows (instances.py), or for encoded images when the dataset is of
    images; InstanceError names the first bad instance."""
    images = self.bytes_signature is not None
    inputs, errors = (instances_lib.to_image_bytes(instances) if images else
                      instances_lib.to_examples(instances, self.dataset))
    for index, error in enumerate(errors):
      if error:
        raise instances_lib.InstanceError(f'instance {index}: {error}')
    return self.predict_images(inputs) if images else self.predict_examples(inputs)


def _plain(value: Any) -> Any:
  value = value.tolist() if hasattr(value, 'tolist') else value
  return value.decode('utf-8', 'replace') if isinstance(value, bytes) else value


def load(path: str) -> ServedModel:
  """Loads the SavedModel at `path` (a local folder or gs://)."""
  definition = posixpath.join(path, MODEL_DATASET_FILE)
  if not tf.io.gfile.exists(posixpath.join(path, 'saved_model.pb')):
    raise ModelLoadError(f'{path} holds no saved_model.pb: not a SavedModel folder')
  if not tf.io.gfile.exists(definition):
    raise ModelLoadError(f'{path} has no {MODEL_DATASET_FILE}: the model was not trained by '
                         "this project's trainer, so how to read a raw row is unknown (send "
                         '{"b64": <serialized tf.Example>} instances to a plain TF server)')
  with tf.io.gfile.GFile(definition) as file:
    dataset = Dataset.from_dict(json.loads(file.read()))
  try:
    custom_ops.load_for(path)
  except custom_ops.MissingOpLibraryError as error:
    raise ModelLoadError(str(error)) from error
  try:
    loaded = tf.saved_model.load(path)
  except (OSError, ValueError, tf.errors.OpError) as error:
    raise ModelLoadError(f'{path}: the SavedModel does not load: {error}') from error
  if SERVING_SIGNATURE not in loaded.signatures:
    raise ModelLoadError(f'{path} has no {SERVING_SIGNATURE!r} signature (it has '
                         f'{sorted(loaded.signatures)})')
  bytes_signature = None
  if dataset.image is not None:
    if BYTES_SIGNATURE not in loaded.signatures:
      raise ModelLoadError(f'{path} is a model of images without a {BYTES_SIGNATURE!r} signature '
                           f'(it has {sorted(loaded.signatures)}): retrain it with this trainer')
    bytes_signature = loaded.signatures[BYTES_SIGNATURE]
  return ServedModel(path, dataset, loaded.signatures[SERVING_SIGNATURE], loaded,
                     bytes_signature)
