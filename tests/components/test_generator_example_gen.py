"""GeneratorExampleGen on Beam's DirectRunner: the executor's Do() on real artifacts, and the
component in a LocalDagRunner pipeline with StatisticsGen reading its output."""

import glob
import json
import os
import re

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_data_validation as tfdv
from ml_metadata import metadata_store as mlmd
from tensorflow_transform.tf_metadata import schema_utils
from tfx import v1 as tfx
from tfx.components.util import examples_utils
from tfx.dsl.components.base import base_beam_executor
from tfx.types import artifact_utils
from tfx.types import standard_artifacts
from tfx.utils import io_utils
from tensorflow_metadata.proto.v0 import schema_pb2

from components import example_files
from components.generator_example_gen import BatchContractError
from components.generator_example_gen import GeneratorConfigError
from components.generator_example_gen import GeneratorExampleGen
from components.generator_example_gen import GeneratorExampleGenConfig
from components.generator_example_gen import LoaderError
from components.generator_example_gen import encoding
from components.generator_example_gen import executor
from components.generator_example_gen import loading
from tests.components import fixtures_generators

FIXTURES = 'tests.components.fixtures_generators'
IMAGE_BATCHES, IMAGE_BATCH_SIZE = 12, 16


def run_executor(root, **settings):
  """Runs Do() with fresh Examples and Schema artifacts under `root`; returns them."""
  examples = standard_artifacts.Examples()
  examples.uri = os.path.join(root, 'examples')
  schema = standard_artifacts.Schema()
  schema.uri = os.path.join(root, 'schema')
  # No beam_pipeline_args: DirectRunner, and TFX skips building a package for remote workers.
  context = base_beam_executor.BaseBeamExecutor.Context(tmp_dir=os.path.join(root, 'tmp'))
  config = GeneratorExampleGenConfig(**settings)
  executor.Executor(context).Do({}, {'examples': [examples], 'schema': [schema]},
                                config.to_exec_properties())
  return examples, schema


def split_files(examples, split):
  return sorted(glob.glob(os.path.join(artifact_utils.get_split_uri([examples], split), '*')))


def read_split(examples, split, schema):
  """Every record of a split, parsed with the feature spec the schema gives (as TFT does)."""
  spec = schema_utils.schema_as_feature_spec(schema).feature_spec
  records = [record for path in split_files(examples, split)
             for record in tf.data.TFRecordDataset(
                 path, compression_type=example_files.tf_compression_type(path))]
  if not records:
    return {}
  parsed = tf.io.parse_example(tf.stack(records), spec)
  return {name: value.numpy() for name, value in parsed.items()}


def read_schema(artifact):
  return io_utils.parse_pbtxt_file(os.path.join(artifact.uri, 'schema.pbtxt'),
                                   schema_pb2.Schema())


@pytest.fixture(scope='module')
def image_run(tmp_path_factory):
  root = str(tmp_path_factory.mktemp('image_run'))
  return run_executor(root, loader=f'{FIXTURES}.ImageSequence',
                      loader_kwargs={'num_batches': IMAGE_BATCHES,
                                     'batch_size': IMAGE_BATCH_SIZE},
                      label_names=['label'])


def test_sequence_images_parse_back_with_recorded_shapes(image_run):
  examples, schema_artifact = image_run
  schema = read_schema(schema_artifact)
  shapes = {f.name: [d.size for d in f.shape.dim] for f in schema.feature}
  assert shapes == {'image': [28, 28, 1], 'label': []}
  expected = []
  for index in range(IMAGE_BATCHES):
    images, labels = fixtures_generators.image_batch(index, IMAGE_BATCH_SIZE)
    expected += [(image.tobytes(), label) for image, label in zip(images, labels.tolist())]
  seen = []
  for split in ('train', 'eval'):
    parsed = read_split(examples, split, schema)
    assert parsed['image'].shape[1:] == (28, 28, 1)
    seen += [(image.astype(np.uint8).tobytes(), label)
             for image, label in zip(parsed['image'], parsed['label'].tolist())]
  assert sorted(seen) == sorted(expected)  # Every row once, each image with its label.


def test_output_is_laid_out_like_example_gen(image_run):
  examples, _ = image_run
  assert artifact_utils.decode_split_names(examples.split_names) == ['train', 'eval']
  # What StatisticsGen, Transform and Trainer read to pick their decoder.
  assert examples_utils.get_file_format(examples) == 'tfrecords_gzip'
  assert examples_utils.get_payload_format(examples) == (
      tfx.proto.PayloadFormat.FORMAT_TF_EXAMPLE)
  assert json.loads(examples.get_string_custom_property('feature_specs'))['image'] == {
      'dtype': 'uint8', 'shape': [28, 28, 1], 'encoding': 'int64_list'}
  for split in ('train', 'eval'):
    names = [os.path.basename(path) for path in split_files(examples, split)]
    assert names == [f'data_tfrecord-{i:05d}-of-00004.gz' for i in range(4)]


def test_split_follows_buckets_and_repeats_exactly(image_run, tmp_path):
  examples, schema_artifact = image_run
  schema = read_schema(schema_artifact)
  counts = {split: len(read_split(examples, split, schema)['label'])
            for split in ('train', 'eval')}
  assert sum(counts.values()) == IMAGE_BATCHES * IMAGE_BATCH_SIZE
  assert 0.55 < counts['train'] / sum(counts.values()) < 0.78  # 2:1 -> 0.67
  again, _ = run_executor(str(tmp_path), loader=f'{FIXTURES}.ImageSequence',
                          loader_kwargs={'num_batches': IMAGE_BATCHES,
                                         'batch_size': IMAGE_BATCH_SIZE})
  for split in ('train', 'eval'):
    before = {r.numpy() for r in tf.data.TFRecordDataset(
        split_files(examples, split), compression_type='GZIP')}
    after = {r.numpy() for r in tf.data.TFRecordDataset(
        split_files(again, split), compression_type='GZIP')}
    assert before == after


def test_generator_partitions_yield_every_element_once(tmp_path):
  examples, schema_artifact = run_executor(
      str(tmp_path), loader=f'{FIXTURES}.id_batches', loader_kwargs={'total': 100},
      num_partitions=3, num_shards=2)
  schema = read_schema(schema_artifact)
  assert {f.name: schema_pb2.FeatureType.Name(f.type) for f in schema.feature} == {
      'blob': 'BYTES', 'flag': 'INT', 'id': 'INT', 'name': 'BYTES', 'score': 'FLOAT'}
  rows = {}
  for split in ('train', 'eval'):
    assert len(split_files(examples, split)) == 2
    parsed = read_split(examples, split, schema)
    for column, values in parsed.items():
      rows.setdefault(column, []).extend(values.tolist())
  assert sorted(rows['id']) == list(range(100))
  expected = fixtures_generators.id_rows(rows['id'])
  assert rows['name'] == [name.encode() for name in expected['name']]
  assert rows['blob'] == list(expected['blob'])
  assert rows['flag'] == expected['flag'].astype(int).tolist()
  assert rows['score'] == expected['score'].tolist()


def test_mismatched_shape_names_batch_and_feature(tmp_path):
  with pytest.raises(BatchContractError, match=re.escape(
      "batch 5, feature 'image': shape (28, 27, 1) differs from (28, 28, 1) seen first")):
    run_executor(str(tmp_path), loader=f'{FIXTURES}.ImageSequence',
                 loader_kwargs={'num_batches': 8, 'batch_size': 2, 'bad_batch': 5})


def test_mismatched_dtype_names_partition_element_and_feature(tmp_path):
  with pytest.raises(BatchContractError, match=re.escape(
      "partition 1, element 2, feature 'score': dtype float64 differs from float32 seen "
      'first')):
    run_executor(str(tmp_path), loader=f'{FIXTURES}.id_batches',
                 loader_kwargs={'total': 60, 'batch_size': 4, 'bad_element': [1, 2]},
                 num_partitions=2)


@pytest.mark.parametrize('path, reason', [
    ('no_such_package.loaders.Thing', "no module 'no_such_package'"),
    (f'{FIXTURES}.NoSuchSequence', "has no attribute 'NoSuchSequence'"),
    (f'{FIXTURES}.NOT_A_LOADER', 'is a int, not a Sequence'),
])
def test_bad_import_path_names_the_path(tmp_path, path, reason):
  with pytest.raises(LoaderError, match=re.escape(f"{path!r}")) as error:
    run_executor(str(tmp_path), loader=path)
  assert reason in str(error.value)


def test_non_json_kwargs_rejected_naming_the_key():
  with pytest.raises(GeneratorConfigError, match=r"loader_kwargs\['augment'\]"):
    GeneratorExampleGen(loader=f'{FIXTURES}.ImageSequence',
                        loader_kwargs={'num_batches': 2, 'augment': lambda x: x})
  with pytest.raises(GeneratorConfigError, match=r"loader_kwargs\['options'\]\['size'\]"):
    GeneratorExampleGen(loader=f'{FIXTURES}.ImageSequence',
                        loader_kwargs={'options': {'size': (28, 28)}})
  with pytest.raises(GeneratorConfigError, match=r"loader_kwargs\['scale'\].*NaN"):
    GeneratorExampleGen(loader=f'{FIXTURES}.ImageSequence',
                        loader_kwargs={'scale': float('nan')})


@pytest.mark.integration  # A LocalDagRunner run.
def test_pipeline_run_feeds_statistics_gen(tmp_path):
  """The component in a real LocalDagRunner run: (x, y, sample_weight) batches from a plain
  Sequence class, written uncompressed, StatisticsGen reading the examples with the generated
  schema."""
  example_gen = GeneratorExampleGen(
      loader=f'{FIXTURES}.XYSequence', loader_kwargs={'num_batches': 5, 'batch_size': 6},
      feature_names=['x'], label_names=['y'], num_shards=2, compression='none')
  statistics_gen = tfx.components.StatisticsGen(
      examples=example_gen.outputs['examples'], schema=example_gen.outputs['schema'])
  metadata_path = str(tmp_path / 'metadata.sqlite')
  tfx.orchestration.LocalDagRunner().run(tfx.dsl.Pipeline(
      pipeline_name='generator-example-gen-test', pipeline_root=str(tmp_path / 'root'),
      components=[example_gen, statistics_gen], enable_cache=False,
      metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
          metadata_path)))

  store = mlmd.MetadataStore(
      tfx.orchestration.metadata.sqlite_metadata_connection_config(metadata_path))
  [examples] = store.get_artifacts_by_type('Examples')
  assert examples.properties['split_names'].string_value == '["train", "eval"]'
  assert examples.custom_properties['compression'].string_value == 'none'
  assert sorted(os.listdir(os.path.join(examples.uri, 'Split-train'))) == [
      'data_tfrecord-00000-of-00002.tfrecord', 'data_tfrecord-00001-of-00002.tfrecord']
  assert json.loads(examples.custom_properties['feature_specs'].string_value) == {
      'x': {'dtype': 'float32', 'shape': [3], 'encoding': 'float_list'},
      'y': {'dtype': 'int64', 'shape': [], 'encoding': 'int64_list'},
      'sample_weight': {'dtype': 'float32', 'shape': [], 'encoding': 'float_list'}}
  [statistics] = store.get_artifacts_by_type('ExampleStatistics')
  counts = {}
  for split in ('train', 'eval'):
    stats = tfdv.load_stats_binary(os.path.join(statistics.uri, f'Split-{split}',
                                                'FeatureStats.pb'))
    counts[split] = stats.datasets[0].num_examples
  assert sum(counts.values()) == 30 and min(counts.values()) > 0


def test_unknown_compression_is_named():
  with pytest.raises(GeneratorConfigError, match="compression must be one of \\['gzip', "
                     "'none'\\], got 'bz2'"):
    GeneratorExampleGen(loader=f'{FIXTURES}.ImageSequence', compression='bz2')


def test_split_buckets_are_configurable():
  keys = [loading.Location(loading.SEQUENCE, batch).split_key(row)
          for batch in range(100) for row in range(40)]
  shares = [sum(executor.split_index(key, buckets) == 0 for key in keys) / len(keys)
            for buckets in ((2, 1), (1, 3), (9, 1))]
  assert [round(share, 1) for share in shares] == [0.7, 0.2, 0.9]  # 0.67, 0.25, 0.9


BATCH_0 = loading.Location(loading.SEQUENCE, 0)


def encode(batch, **settings):
  """(contract, examples) for one batch, without Beam: the executor's per-batch steps."""
  config = GeneratorExampleGenConfig(loader=f'{FIXTURES}.ImageSequence', **settings)
  contract = encoding.infer_contract(batch, config, BATCH_0)
  arrays, rows = encoding.checked_arrays(batch, config, contract, BATCH_0)
  return contract, list(encoding.to_examples(arrays, rows, contract))


def parse(contract, examples):
  spec = schema_utils.schema_as_feature_spec(encoding.contract_schema(contract)).feature_spec
  parsed = tf.io.parse_example([e.SerializeToString() for e in examples], spec)
  return {name: value.numpy() for name, value in parsed.items()}


def test_raw_bytes_image_restores_with_decode_raw():
  images, labels = fixtures_generators.image_batch(3, 4)
  contract, examples = encode((images, labels), raw_bytes_features=['image'],
                              feature_names=['image'])
  schema = encoding.contract_schema(contract)
  image_feature = next(f for f in schema.feature if f.name == 'image')
  assert image_feature.type == schema_pb2.BYTES
  assert 'uint8 [28, 28, 1]' in image_feature.annotation.comment[0]
  parsed = parse(contract, examples)
  decoded = tf.reshape(tf.io.decode_raw(parsed['image'], tf.uint8), [-1, 28, 28, 1])
  np.testing.assert_array_equal(decoded.numpy(), images)
  np.testing.assert_array_equal(parsed['label'], labels)


def test_tuple_x_names_each_array_in_order():
  x = (np.zeros((2, 2), np.float32), np.array([b'a', b'b']))
  contract, examples = encode((x, np.array([1, 0]), None), feature_names=['dense', 'token'],
                              label_names=['y'])
  assert sorted(contract) == ['dense', 'token', 'y']
  assert parse(contract, examples)['token'].tolist() == [b'a', b'b']


@pytest.mark.parametrize('batch, settings, message', [
    (((np.zeros((2, 3)), np.zeros((2, 3))), np.zeros(2)), {'feature_names': ['a']},
     "batch 0: x holds 2 array(s) but feature_names names 1 (['a'])"),
    ({'a': np.zeros(3), 'b': np.zeros(2)}, {},
     "batch 0, feature 'b': 2 rows, but feature 'a' has 3"),
    ({'a': np.float32(1.0)}, {}, "batch 0, feature 'a': a 0-d value has no batch dimension"),
    ({'a': np.zeros(2, np.uint64)}, {}, "feature 'a': dtype uint64 is not supported"),
    ({'a': np.array([1, 'x'], dtype=object)}, {}, "feature 'a': dtype object is not supported"),
    (({'a': np.zeros(2)}, {'a': np.zeros(2)}), {}, "the name(s) ['a'] appear in both x and y"),
    ('text', {}, 'a batch must be a dict, a tuple (x, y[, sample_weight]) or an array; got str'),
    ({'a': np.zeros(2)}, {'raw_bytes_features': ['img']}, "raw_bytes_features names ['img']"),
])
def test_unsupported_batches_are_named(batch, settings, message):
  with pytest.raises(BatchContractError, match=re.escape(message)):
    encode(batch, **settings)
