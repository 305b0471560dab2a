"""An image model saved as the Trainer saves it (trainer/signatures.py: serving_default through a
Transform layer, serving_bytes), with the Transform graph the pipeline's Transform makes
(transform/preprocessing.py over the curated image schema, datadefs/images/schema.py): bytes
through, the class name to its index. For the serving tests."""

from pathlib import Path
from typing import Sequence, Tuple

import apache_beam as beam
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io, schema_utils

from datadefs.definition import Dataset
from datadefs.images import schema as image_schema
from datadefs.images.spec import RAW_IMAGE, RAW_LABEL
from trainer import model as model_lib
from trainer import signatures
from transform import preprocessing


def raw_example(encoded: bytes, label: str) -> bytes:
  return tf.train.Example(features=tf.train.Features(feature={
      RAW_IMAGE: tf.train.Feature(bytes_list=tf.train.BytesList(value=[encoded])),
      RAW_LABEL: tf.train.Feature(bytes_list=tf.train.BytesList(value=[label.encode()])),
  })).SerializeToString()


def transform_output(dataset: Dataset, files: Sequence[Tuple[Path, int]], root: Path
                     ) -> tft.TFTransformOutput:
  """The Transform graph of the image kind over `files`, written under root/transform."""
  def preprocessing_fn(inputs):
    return preprocessing.transform_features(inputs, dataset)

  # The pipeline's raw schema: one value per feature, shape [1].
  raw_schema = image_schema.schema(dataset.label.classes)
  raw_spec = schema_utils.schema_as_feature_spec(raw_schema).feature_spec
  metadata = dataset_metadata.DatasetMetadata(raw_schema)
  # The features the Transform does not read (format, size, hash) take any valid value.
  filler = {name: [1] if feature.dtype == tf.int64 else [b'png']
            for name, feature in raw_spec.items()}
  rows = [{**filler, RAW_IMAGE: [path.read_bytes()],
           RAW_LABEL: [dataset.label.classes[label].encode()]} for path, label in files]
  with beam.Pipeline() as pipeline, tft_beam.Context(temp_dir=str(root / 'tmp')):
    transform_fn = ((pipeline | beam.Create(rows), metadata)
                    | tft_beam.AnalyzeDataset(preprocessing_fn))
    _ = transform_fn | tft_beam.WriteTransformFn(str(root / 'transform'))
  # Transform (the TFX component) writes the raw metadata next to the transform_fn.
  metadata_io.write_metadata(
      metadata, str(root / 'transform' / tft.TFTransformOutput.RAW_METADATA_DIR))
  return tft.TFTransformOutput(str(root / 'transform'))


def save_model(dataset: Dataset, files: Sequence[Tuple[Path, int]], root: Path,
               model: tf.keras.Model = None) -> Tuple[tf.keras.Model, str]:
  """(the model, the folder it is saved in with its signatures and definition)."""
  model = model or model_lib.build(dataset)
  path = str(root / 'model')
  model.save(path, save_format='tf', signatures=signatures.serving_signatures(
      model, transform_output(dataset, files[:4], root), dataset))
  signatures.write_dataset_definition(path, dataset)
  return model, path
