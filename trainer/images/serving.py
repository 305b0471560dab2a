"""The serving_bytes signature of an image model: a batch of raw encoded images (the one string
input SERVING_BYTES_INPUT, which Vertex and TF Serving JSON requests send as {"b64": ...}) ->
{'probabilities': [N, K] float32, 'classes': [N] class names}. The images are decoded and
resized by trainer/images/decode.py, the function the training input uses, so a served image is
the image trained on.

Bytes that are no image (empty, truncated, text) fail the request with InvalidArgumentError
saying what TensorFlow's decoder found wrong; the server stays up (serving/model.py names the
instance).
"""

import tensorflow as tf

from datadefs.definition import Dataset
from datadefs.images.spec import IMAGE_FEATURE, SERVING_BYTES_INPUT
from trainer.images.decode import decode_batch
from trainer.images.decoder import image_spec

PROBABILITIES = 'probabilities'
CLASSES = 'classes'


def bytes_signature(model: tf.keras.Model, dataset: Dataset):
  """The serving_bytes concrete function of `model` (see the module doc)."""
  spec = image_spec(dataset)
  class_names = tf.constant(dataset.task_kind.class_names(dataset.label.classes))

  @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=SERVING_BYTES_INPUT)])
  def serve_bytes(image_bytes):
    pixels = decode_batch(image_bytes, spec.size, spec.channels)
    probabilities = model({IMAGE_FEATURE: pixels}, training=False)
    return {PROBABILITIES: probabilities,
            CLASSES: tf.gather(class_names, tf.argmax(probabilities, axis=1))}

  return serve_bytes.get_concrete_function()
