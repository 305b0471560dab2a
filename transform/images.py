"""The image data kind's features: the encoded image bytes, passed through unchanged as
IMAGE_FEATURE (datadefs/images/spec.py). The label (the class name, mapped to its index in the
definition's classes) is made by the task, as for every kind (transform/preprocessing.py).

No decoding here: decoded pixels would make every transformed example 25x to 300x larger than
its file (64x64x3 to 224x224x3 bytes against a few KB of PNG or JPEG) and the serving
signature would take pixels; the Trainer decodes and resizes once per image and caches the
result, with the function its serving signatures use (trainer/). Nor does Transform write this
graph's output, a copy of every image: the Trainer applies the graph as it reads the ExampleGen's
examples (datadefs/kinds.py `transform_writes_examples`, trainer/raw_input.py).
"""

from typing import Dict

import tensorflow as tf

from datadefs.definition import Dataset
from datadefs.images import spec


def features(inputs, dataset: Dataset) -> Dict[str, tf.Tensor]:  # pylint: disable=unused-argument
  """{IMAGE_FEATURE: the raw image bytes, as they came}."""
  image = inputs[spec.RAW_IMAGE]
  if isinstance(image, tf.sparse.SparseTensor):  # a schema without the feature's shape
    image = tf.sparse.to_dense(image, default_value=b'')
  return {spec.IMAGE_FEATURE: tf.identity(image)}
