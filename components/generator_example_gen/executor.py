"""GeneratorExampleGen's executor: loader batches to sharded GZIP TFRecords, on Beam.

Each Beam element is one work unit (a Sequence batch index or a generator partition). The
worker imports the loader by path, builds it with loader_kwargs once per DoFn instance, reads
its unit, checks it against the contract and emits serialized tf.Examples keyed by split. The
contract (names, dtypes, per-example shapes) comes from the first batch, read here before the
pipeline starts; it is also written as the Schema artifact.
"""

import bisect
import hashlib
import itertools
import json
import os
from typing import Any, Dict, Iterator, List, Mapping, Tuple

from absl import logging
import apache_beam as beam
from tfx import types
from tfx.components.example_gen import write_split
from tfx.components.util import examples_utils
from tfx.dsl.components.base import base_beam_executor
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils
from tfx.utils import io_utils

from components import example_files
from components.generator_example_gen import config as config_lib
from components.generator_example_gen import encoding
from components.generator_example_gen import loading

EXAMPLES_KEY = 'examples'
SCHEMA_KEY = 'schema'
# Custom properties of the Examples artifact besides ExampleGen's own.
FEATURE_SPECS_PROPERTY = 'feature_specs'
LOADER_PROPERTY = 'loader'
LOADER_KIND_PROPERTY = 'loader_kind'
# The file name SchemaGen and ImportSchemaGen write (Transform reads the only file there).
SCHEMA_FILE_NAME = 'schema.pbtxt'


def split_index(key: bytes, buckets: Tuple[int, ...]) -> int:
  """ExampleGen's hash split: sha256 of the key modulo the bucket total, then the split whose
  cumulative bucket range holds it."""
  bucket = int(hashlib.sha256(key).hexdigest(), 16) % sum(buckets)
  return bisect.bisect(list(itertools.accumulate(buckets)), bucket)


class _ReadUnitDoFn(beam.DoFn):
  """Reads one work unit and emits (split index, serialized tf.Example) per row."""

  def __init__(self, config: config_lib.GeneratorExampleGenConfig,
               contract: Mapping[str, encoding.FieldSpec]):
    self._config = config
    self._contract = dict(contract)
    self._loader = None
    self._rows = beam.metrics.Metrics.counter(write_split.METRICS_NAMESPACE, 'num_instances')

  def setup(self):
    self._loader = loading.Loader(self._config)

  def process(self, unit: int) -> Iterator[Tuple[int, bytes]]:
    for where, batch in self._loader.read_unit(unit):
      arrays, rows = encoding.checked_arrays(batch, self._config, self._contract, where)
      examples = encoding.to_examples(arrays, rows, self._contract)
      for row, example in enumerate(examples):
        self._rows.inc()
        yield (split_index(where.split_key(row), self._config.split_buckets),
               # Deterministic: the same batches give byte-identical records on every run.
               example.SerializeToString(deterministic=True))


def _by_split(keyed: Tuple[int, bytes], num_splits: int) -> int:
  del num_splits
  return keyed[0]


class Executor(base_beam_executor.BaseBeamExecutor):
  """Writes Split-<name>/data_tfrecord-XXXXX-of-NNNNN.gz (.tfrecord when uncompressed) and
  schema.pbtxt."""

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]],
         exec_properties: Dict[str, Any]) -> None:
    self._log_startup(input_dict, output_dict, exec_properties)
    config = config_lib.GeneratorExampleGenConfig.from_exec_properties(exec_properties)
    loader = loading.Loader(config)
    where, first = loader.first_batch()
    contract = encoding.infer_contract(first, config, where)
    num_units = loader.num_units()
    logging.info('GeneratorExampleGen: %s %r, %d work unit(s), features %s', loader.kind,
                 config.loader, num_units, {n: s.to_json() for n, s in contract.items()})

    examples = artifact_utils.get_single_instance(output_dict[EXAMPLES_KEY])
    examples.split_names = artifact_utils.encode_split_names(list(config_lib.SPLIT_NAMES))
    with self._make_beam_pipeline() as pipeline:
      keyed = (pipeline
               | 'Units' >> beam.Create(list(range(num_units)))
               # Breaks fusion so the units spread over workers instead of one bundle.
               | 'Spread' >> beam.Reshuffle()
               | 'Read' >> beam.ParDo(_ReadUnitDoFn(config, contract)))
      splits = keyed | 'Split' >> beam.Partition(_by_split, len(config_lib.SPLIT_NAMES))
      for index, name in enumerate(config_lib.SPLIT_NAMES):
        split_uri = artifact_utils.get_split_uri([examples], name)
        # pylint: disable=expression-not-assigned
        (splits[index]
         | f'Records[{name}]' >> beam.Values()
         | f'Write[{name}]' >> beam.io.WriteToTFRecord(
             os.path.join(split_uri, write_split.DEFAULT_TF_RECORD_FILE_NAME),
             file_name_suffix=example_files.COMPRESSIONS[config.compression].suffix,
             num_shards=config.num_shards,
             compression_type=example_files.COMPRESSIONS[config.compression].beam_type))

    # As ExampleGen records them: payload and file format, span 0 (no span pattern here).
    examples_utils.set_payload_format(examples, example_gen_pb2.FORMAT_TF_EXAMPLE)
    examples_utils.set_file_format(
        examples, write_split.to_file_format_str(example_gen_pb2.FORMAT_TFRECORDS_GZIP))
    examples.span = 0
    # TFX 1.16 has one name for TFRecords ('tfrecords_gzip'); readers go by the file suffix.
    examples.set_string_custom_property(example_files.COMPRESSION_KEY, config.compression)
    examples.set_string_custom_property(
        FEATURE_SPECS_PROPERTY,
        json.dumps({n: s.to_json() for n, s in contract.items()}, sort_keys=True))
    examples.set_string_custom_property(LOADER_PROPERTY, config.loader)
    examples.set_string_custom_property(LOADER_KIND_PROPERTY, loader.kind)

    schema = artifact_utils.get_single_instance(output_dict[SCHEMA_KEY])
    io_utils.write_pbtxt_file(
        os.path.join(schema.uri, SCHEMA_FILE_NAME),
        encoding.contract_schema(contract))
