"""The image kind's input decoder (trainer/kinds.py DECODERS['image']): a batch of serialized
transformed tf.Examples (or raw ones, through the Transform graph: trainer/raw_input.py) ->
{IMAGE_FEATURE: uint8 [N, size, size, channels], label: int64 [N]}.

make_dataset (trainer/input_pipeline.py) sees `decoded_example_bytes` set and orders the input
as the issue asks: batch, parse, decode and resize in parallel as uint8, cache the decoded
tensors (or hold them in memory), shuffle, repeat, batch, prefetch. So every image is decoded
once per run, not once per epoch, and the cache is sized from N x H x W x C.
"""

import dataclasses
from typing import Callable, Dict, Mapping, Optional, Tuple

import tensorflow as tf

from datadefs.definition import Dataset
from datadefs.images.spec import IMAGE_FEATURE, ImageSpec
from trainer.images.decode import decode_batch

# Bytes of one int64 label next to the pixels.
_LABEL_BYTES = 8


@dataclasses.dataclass(frozen=True)
class ImageDecoder:
  """Parses a batch of transformed examples and decodes its images (see the module doc)."""
  size: int
  channels: int
  label_key: str
  # The names of the label's class ids 0, 1, ... (the prediction sample's captions).
  class_names: Tuple[str, ...] = ()
  # Serialized examples -> transformed features; None: parse transformed examples with
  # feature_spec. The Trainer sets it to read raw examples (trainer/raw_input.py).
  parse: Optional[Callable[[tf.Tensor], Dict[str, tf.Tensor]]] = dataclasses.field(
      default=None, compare=False, repr=False)

  @property
  def decoded_example_bytes(self) -> int:
    """Bytes of one decoded example: H x W x C uint8 pixels and the label."""
    return self.size * self.size * self.channels + _LABEL_BYTES

  @property
  def feature_spec(self) -> Dict[str, tf.io.FixedLenFeature]:
    return {IMAGE_FEATURE: tf.io.FixedLenFeature([], tf.string),
            self.label_key: tf.io.FixedLenFeature([], tf.int64)}

  def decode_features(self, features: Mapping[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
    """Transformed features (encoded IMAGE_FEATURE) -> the model's inputs (decoded pixels);
    other features, the label among them, pass as they are. Serving uses it too."""
    decoded = dict(features)
    # One image per example: parsed here as [N], out of the Transform layer at serving as
    # [N, 1] (the schema's shape).
    encoded = tf.reshape(features[IMAGE_FEATURE], [-1])
    decoded[IMAGE_FEATURE] = decode_batch(encoded, self.size, self.channels)
    return decoded

  def __call__(self, records: tf.Tensor) -> Dict[str, tf.Tensor]:
    features = (self.parse(records) if self.parse is not None
                else tf.io.parse_example(records, self.feature_spec))
    return self.decode_features(features)


def image_spec(dataset: Dataset) -> ImageSpec:
  """The dataset's [image] table; an error naming the dataset when it has none."""
  if dataset.image is None:
    raise ValueError(f'dataset {dataset.name!r} is of kind {dataset.kind!r} but has no [image] '
                     f'table (size, channels, augmentation): add one to its dataset.toml')
  return dataset.image


def image_decoder(dataset: Dataset, feature_spec: Mapping[str, tf.io.FixedLenFeature]
                  ) -> ImageDecoder:
  """DECODERS['image']: the decoder of `dataset`'s images over Transform's feature spec."""
  for key in (IMAGE_FEATURE, dataset.label_key):
    if key not in feature_spec:
      raise ValueError(f'Transform output has no feature {key!r} (it has {sorted(feature_spec)}):'
                       f' the image kind needs the image bytes and the label index')
  spec = image_spec(dataset)
  return ImageDecoder(size=spec.size, channels=spec.channels, label_key=dataset.label_key,
                      class_names=dataset.task_kind.class_names(dataset.label.classes))
