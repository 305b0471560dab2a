"""A small gradient-boosted trees model trained as the Trainer trains one, without a pipeline
run: the bundled penguins rows, Transform's analysis of them (TF Transform on Beam, in memory,
the project's preprocessing_fn), its transformed examples as TFRecord shards, then
trainer/trees.py and the Trainer's save with the serving signatures."""

import csv
import dataclasses
import functools
import os
from pathlib import Path
from typing import Dict, List

import apache_beam as beam
import pyarrow as pa
import tensorflow as tf
import tensorflow_data_validation as tfdv
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata
from tfx_bsl.tfxio import tf_example_record

import datadefs
from datadefs.definition import Dataset
from datadefs.tabular import examples as examples_lib
from serving import instances
from trainer import model as model_lib
from trainer import signatures
from trainer import strategy as strategy_lib
from trainer import task
from trainer import trees
from trainer.config import ModelConfig, TrainConfig
from transform.preprocessing import preprocessing_fn

PENGUINS = dataclasses.replace(datadefs.load('penguins'), model=model_lib.TREES)


def penguin_rows() -> List[Dict[str, str]]:
  """The bundled penguins.csv rows, as text."""
  path = Path(datadefs.data_root(PENGUINS)) / 'penguins.csv'
  with path.open(newline='') as f:
    return list(csv.DictReader(f))


def labelled_examples(rows: List[Dict[str, str]], dataset: Dataset = PENGUINS) -> List[bytes]:
  """Serialized raw tf.Examples of the rows, label included, as ExampleGen writes them."""
  types = dict(dataset.column_types)
  label = dataset.label.column
  typed = [{**instances.typed_row({k: v for k, v in row.items() if k in types}, dataset),
            label: _typed_label(row[label], types[label])} for row in rows]
  arrays = [pa.array([row[name] for row in typed],
                     {'int': pa.int64(), 'float': pa.float32(), 'string': pa.string()}[kind])
            for name, kind in types.items()]
  return examples_lib.serialize_examples(pa.RecordBatch.from_arrays(arrays, list(types)), types)


def _typed_label(text: str, kind: str):
  return {'int': int, 'float': float}.get(kind, str)(text)


def transform(examples: List[bytes], out: Path, dataset: Dataset = PENGUINS
              ) -> tft.TFTransformOutput:
  """Analyzes the training examples (all but every third) with the project's preprocessing_fn,
  writes the transform graph to out/transform, and the transformed examples, made by that graph,
  to out/{train,eval}/*.gz (every third example to eval, as the pipeline's 2:1 split)."""
  schema = tfdv.load_schema_text(dataset.schema_path)
  source = tf_example_record.TFExampleBeamRecord(
      physical_format='inmem', telemetry_descriptors=['test'], schema=schema)
  fn = functools.partial(preprocessing_fn, custom_config=dataset.to_custom_config())
  splits = {'train': [e for i, e in enumerate(examples) if i % 3 != 2],
            'eval': [e for i, e in enumerate(examples) if i % 3 == 2]}
  with beam.Pipeline() as pipeline, tft_beam.Context(temp_dir=str(out / 'tmp')):
    raw = pipeline | beam.Create(splits['train']) | source.BeamSource()
    transform_fn = (raw, source.TensorAdapterConfig()) | tft_beam.AnalyzeDataset(fn)
    _ = transform_fn | tft_beam.WriteTransformFn(str(out / 'transform'))
    # The raw schema beside it, as TFX's Transform writes it (the serving signatures parse by it).
    _ = dataset_metadata.DatasetMetadata(schema) | 'WriteRawMetadata' >> tft_beam.WriteMetadata(
        str(out / 'transform' / tft.TFTransformOutput.RAW_METADATA_DIR), pipeline)
  output = tft.TFTransformOutput(str(out / 'transform'))
  layer = output.transform_features_layer()
  for split, rows in splits.items():
    transformed = layer(tf.io.parse_example(tf.constant(rows), output.raw_feature_spec()))
    os.makedirs(out / split)
    with tf.io.TFRecordWriter(str(out / split / 'transformed_examples-00000-of-00001.gz'),
                              options='GZIP') as writer:
      for index in range(len(rows)):
        writer.write(_example({name: values[index].numpy()
                               for name, values in transformed.items()}))
  return output


def _example(values) -> bytes:
  feature = {}
  for name, value in values.items():
    if value.dtype.kind == 'f':
      feature[name] = tf.train.Feature(float_list=tf.train.FloatList(value=[float(value)]))
    else:
      feature[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))
  return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def train_and_save(out: Path) -> Dict[str, object]:
  """Trains trees on the penguins as the Trainer does and saves them as the Trainer saves a
  model (serving signatures, the dataset definition); saves an untrained network the same way.
  Returns {'trees': folder, 'network': folder, 'eval_rows': the eval split's raw rows}."""
  rows = penguin_rows()
  output = transform(labelled_examples(rows), out)
  config = TrainConfig(model=ModelConfig(num_trees=50))
  decode = output.transformed_feature_spec()
  os.makedirs(out / 'logs')
  model = trees.train(config, PENGUINS, train_files=[str(out / 'train' / '*.gz')],
                      eval_files=[str(out / 'eval' / '*.gz')], decode=decode, eval_steps=None,
                      log_dir=str(out / 'logs'))
  network_dataset = dataclasses.replace(PENGUINS, model='mlp')
  network = model_lib.build(network_dataset, ModelConfig(hidden_units=(4,)))
  saved = {}
  for name, keras_model, dataset in (('trees', model, PENGUINS),
                                     ('network', network, network_dataset)):
    saved[name] = out / name
    task.save_model(trees.single_worker(strategy_lib.Cluster()), keras_model, str(saved[name]),
                    signatures.serving_signatures(keras_model, output, dataset))
    signatures.write_dataset_definition(str(saved[name]), dataset)
  return {**saved, 'eval_rows': [row for i, row in enumerate(rows) if i % 3 == 2]}
