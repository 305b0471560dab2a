"""The decode step of each data kind's input_fn, in the style of tensorflow/models' InputReader
`decoder_fn`: a batch of serialized (transformed) tf.Examples in, a dict of tensors out, the
label among them. `make_dataset` (trainer/input_pipeline.py) calls it after batching, and the
in-memory path (trainer/in_memory_input.py) once over all the training data, so a costly decode
(an image's) is done once and cached as decoded tensors.

A new data kind (datadefs/kinds.py) registers its decoder in DECODERS.
"""

import dataclasses
from typing import Callable, Dict, Mapping, Optional, Union

import tensorflow as tf

from datadefs.definition import Dataset
from trainer.images.decoder import image_decoder

FeatureSpec = Mapping[str, tf.io.FixedLenFeature]


@dataclasses.dataclass(frozen=True)
class ExampleDecoder:
  """Parses each batch with one vectorized tf.io.parse_example: the tabular kind's decode."""
  feature_spec: FeatureSpec
  # Bytes of one decoded example, to size the cache by; None: estimated from the files. A
  # decoder that sets it (an image's) is costly: make_dataset decodes before it caches.
  decoded_example_bytes: Optional[int] = None

  def __call__(self, records: tf.Tensor) -> Dict[str, tf.Tensor]:
    return tf.io.parse_example(records, dict(self.feature_spec))

  def decode_features(self, features: Mapping[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
    """Transformed features -> the model's inputs (the serving signatures' step after the
    Transform layer): the features themselves, for a table."""
    return dict(features)


Decoder = Callable[[tf.Tensor], Dict[str, tf.Tensor]]
DECODERS: Dict[str, Callable[[Dataset, FeatureSpec], Decoder]] = {
    'tabular': lambda dataset, feature_spec: ExampleDecoder(feature_spec),
    'image': image_decoder,
}


def decoder(dataset: Dataset, feature_spec: FeatureSpec) -> Decoder:
  """The decoder of `dataset`'s kind over Transform's transformed feature spec."""
  return DECODERS[dataset.kind](dataset, feature_spec)


def as_decoder(decode: Union[Decoder, FeatureSpec]) -> Decoder:
  """`decode` itself, or, for a feature spec, an ExampleDecoder of it."""
  return ExampleDecoder(decode) if isinstance(decode, Mapping) else decode
