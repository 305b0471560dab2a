"""trainer/raw_input.py for the image kind: the ExampleGen's raw examples, read through the
Transform graph, give the Trainer the tensors Transform's written examples would, through the
whole input pipeline (decode, cache, in-memory load)."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from datadefs.images import spec
from tests.trainer.images import saved
from tests.trainer.images import transformed
from trainer import input_pipeline
from trainer import kinds
from trainer import raw_input

_DATASET = transformed.image_dataset(size=32)
_COUNT = 40


def _raw_example(encoded: bytes, label: str) -> bytes:
  """A raw example as the ExampleGen writes it: the bytes, the class name and what only the
  ExampleGen writes (format, size, hash), which the Trainer does not parse."""
  example = tf.train.Example.FromString(saved.raw_example(encoded, label))
  features = example.features.feature
  features[spec.RAW_FORMAT].bytes_list.value.append(b'png')
  features[spec.RAW_HEIGHT].int64_list.value.append(64)
  features[spec.RAW_WIDTH].int64_list.value.append(64)
  features[spec.RAW_CONTENT_HASH].bytes_list.value.append(b'0' * 64)
  return example.SerializeToString()


@pytest.fixture(scope='module')
def both(digit_files, tmp_path_factory):
  """(raw shard, transformed shard, Transform output) of the same images in the same order."""
  root = tmp_path_factory.mktemp('raw_input')
  files = digit_files[::len(digit_files) // _COUNT][:_COUNT]
  [transformed_shard] = transformed.write_shards(files, root / 'transformed', num_shards=1)
  raw_shard = str(root / 'raw-00000-of-00001.gz')
  with tf.io.TFRecordWriter(raw_shard, options='GZIP') as writer:
    for path, label in files:
      writer.write(_raw_example(path.read_bytes(), _DATASET.label.classes[label]))
  return raw_shard, transformed_shard, saved.transform_output(_DATASET, files[:4], root)


def _read(shard, decode, **options):
  config = input_pipeline.InputConfig((shard,), 8, False, spec.LABEL_FEATURE, **options)
  batches = list(input_pipeline.make_dataset(config, decode))
  return (np.concatenate([features[spec.IMAGE_FEATURE].numpy() for features, _ in batches]),
          np.concatenate([label.numpy() for _, label in batches]))


def test_raw_examples_through_the_graph_give_the_transformed_examples_tensors(both):
  raw_shard, transformed_shard, output = both
  pixels, labels = _read(transformed_shard, kinds.decoder(_DATASET, transformed.FEATURE_SPEC))
  raw_pixels, raw_labels = _read(raw_shard, raw_input.input_decoder(_DATASET, output))
  assert pixels.shape == (_COUNT, 32, 32, 3) and pixels.dtype == np.uint8
  np.testing.assert_array_equal(raw_pixels, pixels)
  np.testing.assert_array_equal(raw_labels, labels)
  assert raw_labels.shape == (_COUNT,) and len(set(labels)) == 10


def test_raw_examples_load_in_memory_for_training(both):
  """The training path that holds decoded columns in memory runs the graph eagerly."""
  raw_shard, _, output = both
  config = input_pipeline.InputConfig((raw_shard,), 8, True, spec.LABEL_FEATURE,
                                      in_memory=True)
  features, label = next(iter(input_pipeline.make_dataset(
      config, raw_input.input_decoder(_DATASET, output))))
  assert features[spec.IMAGE_FEATURE].shape == (8, 32, 32, 3) and label.shape == (8,)


def test_the_trainer_parses_no_feature_only_the_example_gen_writes(both):
  *_, output = both
  parse = raw_input.input_decoder(_DATASET, output).parse
  assert set(parse.feature_spec) == {spec.RAW_IMAGE, spec.RAW_LABEL}
  assert sorted(raw_input.raw_feature_spec(output, _DATASET, with_label=False)) == [
      spec.RAW_IMAGE]


def test_a_table_kind_reads_transformed_examples(both):
  """Tables keep Transform's written examples: no graph on read."""
  *_, output = both
  table = dataclasses.replace(transformed.image_dataset(), kind='tabular', image=None,
                              model='mlp')
  decode = raw_input.input_decoder(table, output)
  assert isinstance(decode, kinds.ExampleDecoder)
