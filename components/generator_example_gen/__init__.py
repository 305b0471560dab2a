"""GeneratorExampleGen: move from `model.fit(generator)` to TFX without rewriting the loader.

The loader is given by import path plus JSON keyword arguments, and is one of:

* a `tf_keras.utils.Sequence` class, or any class/function whose result has `__len__` and
  `__getitem__(i)` returning batch i. Beam work unit: one batch index.
* a generator function `fn(*, shard_index, num_shards, **loader_kwargs)` yielding batches;
  partition `shard_index` of `num_shards` must yield its own part of the data (together the
  partitions yield everything exactly once). `num_shards` here is the component's
  `num_partitions`, not its output file count. Beam work unit: one partition.

Each batch (Sequence item or generator yield) is one of:

* `{name: array}`: every entry is a feature.
* `(x,)`, `(x, y)` or `(x, y, sample_weight)` (tuple or list), where x and y are each a dict
  `{name: array}`, one array (named `feature_names[0]` / `label_names[0]`; defaults 'x' and
  'label'), or a tuple/list of arrays (named by `feature_names` / `label_names` in order);
  sample_weight is named `sample_weight_name`; y or sample_weight may be None.
* a bare array: the same as `(x,)`.

Every value is array-like with the batch as its first dimension (row i is example i). Values:
bool and int8..int64, uint8..uint32 -> int64_list; float16/32/64 -> float_list (stored as
float32); str/bytes (numpy U/S or object arrays of str/bytes) -> bytes_list (str as UTF-8;
numpy 'S' arrays drop trailing NUL bytes, use object arrays for binary blobs). A feature in
`raw_bytes_features` is stored as one bytes value per example instead (its row's buffer,
little-endian, C order; e.g. uint8 images). Per-example shapes are fixed: scalars, vectors,
images. uint64, complex, ragged and nested values are not supported.

The first batch (Sequence batch 0; the first yield of the first non-empty partition) fixes the
contract: feature names, dtypes and per-example shapes. A later batch that differs fails the
run naming it, e.g. "batch 17, feature 'image': shape (28, 27, 1) differs from (28, 28, 1) seen
first" or "partition 2, element 5, feature 'label': dtype float64 differs from int64 seen first".

Outputs: `examples`, an Examples artifact with split_names ["train", "eval"] and files
`Split-<split>/data_tfrecord-XXXXX-of-NNNNN.gz` (num_shards per split, GZIP; `.tfrecord` and
uncompressed with compression='none'), custom properties payload_format FORMAT_TF_EXAMPLE and
file_format tfrecords_gzip as ExampleGen sets them, plus `compression`, `feature_specs` (JSON
{name: {dtype, shape, encoding}}), `loader` and `loader_kind`; and `schema`, a Schema artifact
(schema.pbtxt) with a `shape` per feature, so `schema_as_feature_spec` and Transform parse each
feature back to its shape (raw_bytes features: a scalar string, annotated with the dtype and
shape to decode_raw and reshape to).

Splits: row r of Sequence batch b (generator: partition p, element e) goes to a split by a
sha256 hash of "b:r" ("p:e:r") over train_buckets + eval_buckets buckets (default 2:1), as
ExampleGen's hash_buckets do. The split depends on position, not content: deterministic as
long as the loader returns the same batches in the same order.

The component has no inputs, so with caching on a re-run reuses the earlier output even when
the data behind the loader changed: change a loader_kwargs value (e.g. a data version) or turn
the cache off to re-read.
"""

from components.generator_example_gen.component import GeneratorExampleGen
from components.generator_example_gen.config import GeneratorConfigError
from components.generator_example_gen.config import GeneratorExampleGenConfig
from components.generator_example_gen.encoding import BatchContractError
from components.generator_example_gen.loading import LoaderError

__all__ = [
    'BatchContractError', 'GeneratorConfigError', 'GeneratorExampleGen',
    'GeneratorExampleGenConfig', 'LoaderError',
]
