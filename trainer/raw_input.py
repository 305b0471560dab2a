"""The Trainer's decoder of its input files: Transform's examples, or, for a data kind whose
Transform writes none (datadefs/kinds.py `transform_writes_examples`: images), the ExampleGen's
raw examples through the Transform graph, applied as they are read.

Applied on read, the graph is the one the serving signatures embed (trainer/signatures.py), over
the same raw features, so training and serving still compute the same features. The cost is
once per example and run for a kind whose decoder is costly (an image's): make_dataset decodes
before it caches (trainer/input_pipeline.py), and the graph runs in that decode.
"""

import dataclasses
from typing import Dict, Mapping

import tensorflow as tf
import tensorflow_transform as tft

from datadefs.definition import Dataset
from trainer import kinds


def raw_feature_spec(tf_transform_output: tft.TFTransformOutput, dataset: Dataset,
                     with_label: bool) -> Dict[str, tf.io.FixedLenFeature]:
  """The raw features the model is served: those the schema keeps in its SERVING environment
  (not what only the ExampleGen writes, such as an image's format, size and hash), with or
  without the label column."""
  not_served = {feature.name for feature in tf_transform_output.raw_metadata.schema.feature
                if 'SERVING' in feature.not_in_environment}
  return {key: spec for key, spec in tf_transform_output.raw_feature_spec().items()
          if (key == dataset.label.column and with_label) or
          (key != dataset.label.column and key not in not_served)}


@dataclasses.dataclass(frozen=True)
class TransformOnRead:
  """A batch of serialized raw tf.Examples -> their transformed features: parsed with
  `feature_spec`, then through the Transform graph (a TFT TransformFeaturesLayer)."""
  feature_spec: Mapping[str, tf.io.FixedLenFeature]
  transform: tf.keras.layers.Layer = dataclasses.field(compare=False, repr=False)

  def __call__(self, records: tf.Tensor) -> Dict[str, tf.Tensor]:
    return self.transform(tf.io.parse_example(records, dict(self.feature_spec)))


def input_decoder(dataset: Dataset, tf_transform_output: tft.TFTransformOutput) -> kinds.Decoder:
  """The decoder of the files the pipeline gives the Trainer (pipeline/graph.py chooses them
  by the same flag): Transform's examples, parsed with its transformed feature spec; or raw
  examples, parsed and transformed by TransformOnRead before the kind's decode step."""
  decode = kinds.decoder(dataset, tf_transform_output.transformed_feature_spec())
  if dataset.kind_info.transform_writes_examples:
    return decode
  return dataclasses.replace(decode, parse=TransformOnRead(
      raw_feature_spec(tf_transform_output, dataset, with_label=True),
      tf_transform_output.transform_features_layer()))
