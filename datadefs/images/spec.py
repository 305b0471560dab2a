"""What every layer agrees on for an image dataset (the seams of datadefs/kinds.py):

  ExampleGen (components/)    writes one tf.Example per image with the RAW_* features below:
                              the original encoded bytes (never re-encoded), their format, the
                              decoded height and width, the class name and a content hash.
  Transform (transform/)      passes the bytes through as IMAGE_FEATURE and maps the class name
                              to its index in the definition's classes as LABEL_FEATURE. It
                              never decodes, and writes no examples: its graph is applied as
                              the Trainer reads the ExampleGen's (trainer/raw_input.py).
  Trainer (trainer/)          decodes and resizes IMAGE_FEATURE with one function shared by the
                              input_fn and the serving signatures; serving_bytes takes
                              SERVING_BYTES_INPUT.

`ImageSpec` is the definition's `[image]` table (datadefs/definition.py `Dataset.image`).
"""

import dataclasses
from typing import Any, Mapping

# Raw tf.Example features of one image.
RAW_IMAGE = 'image'                # bytes: the file's encoded bytes, as read
RAW_FORMAT = 'image_format'        # bytes: one of FORMATS
RAW_HEIGHT = 'image_height'        # int64: decoded height in pixels
RAW_WIDTH = 'image_width'          # int64: decoded width in pixels
RAW_LABEL = 'label'                # bytes: the class name (its folder's name)
RAW_CONTENT_HASH = 'content_sha256'  # bytes: hex SHA-256 of the encoded bytes; the split key

FORMATS = ('jpeg', 'png', 'bmp', 'gif')

# Transformed features (what the Trainer reads).
IMAGE_FEATURE = 'image_xf'         # bytes, passed through unchanged
LABEL_FEATURE = 'label_xf'         # int64: index of the class in Label.classes

# The serving_bytes signature's one input: a batch of raw encoded images (JSON: {"b64": ...}).
SERVING_BYTES_INPUT = 'image_bytes'


@dataclasses.dataclass(frozen=True)
class Augmentation:
  """Keras random layers at the front of the model, active only in training. Factors as Keras
  takes them (RandomRotation: a fraction of a full turn); 0 leaves a layer out. Flips are off
  unless turned on: a mirrored letter is a different letter."""
  rotation: float = 0.0
  zoom: float = 0.0
  translation: float = 0.0
  contrast: float = 0.0
  horizontal_flip: bool = False
  vertical_flip: bool = False


@dataclasses.dataclass(frozen=True)
class ImageSpec:
  """An image dataset's settings: the model's input size (size x size x channels; every image
  is resized to it), its augmentation, how many broken files a run may leave out, the fewest
  images a class may have, and an optional local weights file (nothing is downloaded).
  `manifest`, when set, names a CSV in the data root listing the images (Vertex AI's import
  format, datadefs/images/manifest.py) instead of class folders."""
  size: int = 64
  channels: int = 3
  augmentation: Augmentation = Augmentation()
  max_broken_fraction: float = 0.01
  min_images_per_class: int = 5
  weights_file: str = ''
  manifest: str = ''

  @classmethod
  def from_dict(cls, values: Mapping[str, Any]) -> 'ImageSpec':
    values = dict(values)
    values['augmentation'] = Augmentation(**dict(values.get('augmentation') or {}))
    return cls(**values)
