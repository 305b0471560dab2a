"""The input pipelines the benchmark compares. Each makes, for the same data and batch size,
an endless source of (features dict, label) batches that `model.fit` takes: a tf.data.Dataset
or a Keras Sequence."""

import dataclasses
import json
from typing import Callable, Dict, Optional, Tuple, Union

import tensorflow as tf
from tfx.components.trainer import fn_args_utils
from tfx.components.util import examples_utils
from tfx.proto import example_gen_pb2
from tfx.types import standard_artifacts
from tfx_bsl.tfxio import dataset_options

from bench import python_readers
from bench.data import BenchData
from trainer import input_pipeline
import datadefs

LABEL_KEY = datadefs.load('taxi').label_key
CEILING = 'synthetic_ceiling'  # The in-memory upper bound the fit targets are judged against.
Source = Union[tf.data.Dataset, tf.keras.utils.Sequence]


@dataclasses.dataclass(frozen=True)
class Variant:
  name: str
  description: str
  make: Callable[[BenchData, int], Source]
  # Parses in Python: measured on a bounded number of batches.
  python_reader: bool = False
  # Keras Sequence enqueuer threads (fit's `workers`); only for Sequence sources.
  workers: int = 1
  # InputConfig overrides of a `tuned` variant (None: not one of ours).
  input_overrides: Optional[Dict[str, object]] = None


def tuned_input_config(data: BenchData, batch_size: int,
                       overrides: Dict[str, object]) -> input_pipeline.InputConfig:
  """Our trainer's InputConfig for the training split, as trainer/task.py builds it."""
  return input_pipeline.InputConfig(
      file_patterns=data.files, batch_size=batch_size, is_training=True, label_key=LABEL_KEY,
      **overrides)


def caches(variant: Variant, data: BenchData, batch_size: int) -> bool:
  """Whether the variant's pipeline caches the data in memory (complete after one pass)."""
  if variant.input_overrides is None:
    return False
  config = tuned_input_config(data, batch_size, variant.input_overrides)
  return input_pipeline.should_cache(data.files, config)


def _tuned(overrides: Dict[str, object]) -> Callable[[BenchData, int], Source]:

  def make(data: BenchData, batch_size: int) -> Source:
    config = tuned_input_config(data, batch_size, overrides)
    return input_pipeline.make_dataset(config, data.feature_spec())

  return make


def first_batch(data: BenchData, batch_size: int):
  """The first `batch_size` examples of the first shard, parsed: one real (features, label)."""
  records = tf.data.TFRecordDataset(data.files[0], compression_type='GZIP').batch(batch_size)
  parsed = tf.io.parse_example(records.take(1).get_single_element(), data.feature_spec())
  label = parsed.pop(LABEL_KEY)
  return parsed, label


def _synthetic_ceiling(data: BenchData, batch_size: int) -> Source:
  # The batch is materialized once; every step then gets it from memory for free.
  return tf.data.Dataset.from_tensors(first_batch(data, batch_size)).repeat()


def tfx_data_accessor(data: BenchData) -> Tuple[fn_args_utils.DataAccessor, list]:
  """The DataAccessor and train file patterns TFX's Trainer hands to `run_fn`, built the same
  way (`get_common_fn_args`) from an Examples artifact over the data's 'train' split."""
  examples = standard_artifacts.Examples()
  examples.uri = data.examples_uri
  examples.split_names = json.dumps(['train'])
  examples_utils.set_payload_format(examples, example_gen_pb2.PayloadFormat.FORMAT_TF_EXAMPLE)
  fn_args = fn_args_utils.get_common_fn_args(
      {'examples': [examples]},
      {'train_args': '{}', 'eval_args': json.dumps({'splits': ['train']})})
  return fn_args.data_accessor, fn_args.train_files


def _squeeze_unit_dims(features_dict, label):
  """[B, 1] -> [B]: the model takes scalars per example. A no-op for features already [B]."""
  def squeeze(value):
    return tf.squeeze(value, axis=1) if value.shape.rank == 2 and value.shape[1] == 1 else value

  return {name: squeeze(value) for name, value in features_dict.items()}, squeeze(label)


def tfx_dataset(data: BenchData, batch_size: int) -> tf.data.Dataset:
  """TFX's stock reader, as taxi_utils_native_keras.py's _input_fn calls it: the Trainer's
  DataAccessor, default options but the batch size and label, repeated."""
  data_accessor, train_files = tfx_data_accessor(data)
  return data_accessor.tf_dataset_factory(
      train_files,
      dataset_options.TensorFlowDatasetOptions(batch_size=batch_size, label_key=LABEL_KEY),
      data.tf_transform_output().transformed_metadata.schema).repeat()


def _tfx_default(data: BenchData, batch_size: int) -> Source:
  dataset = tfx_dataset(data, batch_size)
  if needs_squeeze(dataset):
    dataset = dataset.map(_squeeze_unit_dims)
  return dataset


def needs_squeeze(dataset: tf.data.Dataset) -> bool:
  """True when TFXIO yields [B, 1] tensors the model (which takes [B]) cannot use as they are."""
  specs = tf.nest.flatten(dataset.element_spec)
  return any(spec.shape.rank == 2 and spec.shape[1] == 1 for spec in specs)


def _parser(data: BenchData) -> python_readers.ExampleParser:
  return python_readers.ExampleParser(data.feature_spec(), LABEL_KEY)


def _keras_sequence(data: BenchData, batch_size: int) -> Source:
  return python_readers.RecordSequence(data.files, data.shard_examples, batch_size,
                                       _parser(data))


def _from_generator(data: BenchData, batch_size: int) -> Source:
  parser = _parser(data)
  dataset = tf.data.Dataset.from_generator(
      python_readers.example_generator(data.files, parser),
      output_signature=parser.output_signature())
  # The usual recipe: examples from Python, batched and prefetched by tf.data.
  return dataset.repeat().batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


# Report order: the ceiling first, then ours, the baselines, our ablations.
VARIANTS: Tuple[Variant, ...] = (
    Variant(CEILING, 'one real batch repeated from memory (upper bound)',
            _synthetic_ceiling),
    Variant('tuned', 'trainer.input_pipeline.make_dataset (ours)', _tuned({}),
            input_overrides={}),
    Variant('tfx_default', "TFX DataAccessor.tf_dataset_factory (TFXIO TFExampleRecord)",
            _tfx_default),
    Variant('keras_sequence_w1', 'Keras Sequence, Python reader + parser, workers=1',
            _keras_sequence, python_reader=True, workers=1),
    Variant('keras_sequence_w2', 'Keras Sequence, Python reader + parser, workers=2',
            _keras_sequence, python_reader=True, workers=2),
    Variant('from_generator', 'tf.data.Dataset.from_generator, Python reader + parser',
            _from_generator, python_reader=True),
    Variant('tuned_no_cache', 'ours, cache=False', _tuned({'cache': False}),
            input_overrides={'cache': False}),
    Variant('tuned_deterministic', 'ours, deterministic=True', _tuned({'deterministic': True}),
            input_overrides={'deterministic': True}),
    Variant('tuned_parse_before_batch', 'ours, parse_after_batch=False',
            _tuned({'parse_after_batch': False}), input_overrides={'parse_after_batch': False}),
)
# The best of the keras_sequence_w* settings is reported as this.
KERAS_SEQUENCE = 'keras_sequence'


def by_name(names) -> Tuple[Variant, ...]:
  """The variants named (in report order); `keras_sequence` means both worker settings."""
  wanted = set(names)
  if KERAS_SEQUENCE in wanted:
    wanted.discard(KERAS_SEQUENCE)
    wanted.update(v.name for v in VARIANTS if v.name.startswith(KERAS_SEQUENCE + '_'))
  unknown = wanted - {v.name for v in VARIANTS}
  if unknown:
    raise ValueError(f'unknown variants {sorted(unknown)}; known: '
                     f'{[v.name for v in VARIANTS] + [KERAS_SEQUENCE]}')
  return tuple(v for v in VARIANTS if v.name in wanted)
