"""tf.data input pipeline over Transform's TFRecord shards of transformed tf.Examples.

One straight-line `make_dataset()`; each ordering choice carries a comment saying why. Each
file is read as its name says: '*.gz' as GZIP, anything else uncompressed (the layout is set by
core/example_files.py).
"""

import dataclasses
import re
import zlib
from typing import Optional, Sequence, Tuple, Union

from absl import logging
import tensorflow as tf

from core import example_files
from trainer import in_memory_input
from trainer import kinds
from datadefs.definition import Dataset
from trainer.config import TrainConfig, check_at_least

# TensorFlow wraps error messages in "{{function_node ...}} " and " [Op:...] name: ...".
_TF_ERROR_WRAPPING = re.compile(r'\{\{.*?\}\}\s*|\s*\[Op:.*$', re.DOTALL)


class CorruptShardError(ValueError):
  """An input shard is not a readable TFRecord file; the message names the file."""


@dataclasses.dataclass(frozen=True)
class InputConfig:
  """How to read one split. `batch_size` is per replica (per input pipeline batch)."""
  file_patterns: Tuple[str, ...]
  batch_size: int
  is_training: bool
  label_key: str
  # How many shards are read at once; more than the shard count gains nothing.
  cycle_length: int = 4
  # Cache the decompressed records in memory when their estimated size is under this budget.
  cache_budget_bytes: int = 1 << 30
  # GZIP'd tf.Examples of this schema inflate about this much when decompressed (measured on
  # the taxi data: ~4x); used only to decide whether the cache fits the budget. Uncompressed
  # files count at their size.
  decompressed_size_ratio: float = 5.0
  shuffle_buffer_size: int = 10_000
  seed: Optional[int] = None
  # None: cache when the shards fit cache_budget_bytes; True/False force it on/off.
  cache: Optional[bool] = None
  # Parse whole batches with one parse_example call (True), or record by record (False).
  parse_after_batch: bool = True
  # None: non-deterministic order while training, deterministic in evaluation.
  deterministic: Optional[bool] = None
  # Evaluation only: read at most this many examples, the first in the fixed order (0: all).
  max_examples: int = 0
  # Training only: parse the data once into columns held in memory and permute them each
  # epoch (trainer/in_memory_input.py). None: when the data is cached and parsed after
  # batching; True/False force it on/off.
  in_memory: Optional[bool] = None
  # One example in `holdout_buckets` (by a hash of its serialized bytes: the same examples
  # every pass, whatever the read order) is the held-out slice; 0: nothing is held out.
  # `holdout` False reads the others, True only the held-out slice (trainer/validation.py).
  holdout_buckets: int = 0
  holdout: bool = False

  def __post_init__(self):
    if not self.file_patterns:
      raise ValueError('file_patterns is empty: name at least one TFRecord file or glob')
    if isinstance(self.file_patterns, str):
      raise ValueError(f'file_patterns must be a tuple of patterns, got the string '
                       f'{self.file_patterns!r}')
    check_at_least(self, 1, ('batch_size', 'cycle_length', 'shuffle_buffer_size'))
    check_at_least(self, 0, ('cache_budget_bytes', 'max_examples', 'holdout_buckets'))
    if self.holdout and self.holdout_buckets < 2:
      raise ValueError(f'holdout reads the held-out slice: holdout_buckets must be >= 2, got '
                       f'{self.holdout_buckets!r}')
    if not self.decompressed_size_ratio > 0:
      raise ValueError(
          f'decompressed_size_ratio must be > 0, got {self.decompressed_size_ratio!r}')
    if self.max_examples and self.is_training:
      raise ValueError(f'max_examples ({self.max_examples}) bounds an evaluation pass; '
                       f'training repeats its data: set train steps instead')

  @property
  def is_deterministic(self) -> bool:
    return (not self.is_training) if self.deterministic is None else self.deterministic


def input_config(config: TrainConfig, dataset: Dataset, file_patterns: Sequence[str],
                 batch_size: int, is_training: bool) -> InputConfig:
  return InputConfig(
      file_patterns=tuple(file_patterns),
      batch_size=batch_size,
      is_training=is_training,
      label_key=dataset.label_key,
      cycle_length=config.cycle_length,
      cache_budget_bytes=config.cache_budget_bytes)


def eval_input_config(config: TrainConfig, dataset: Dataset, file_patterns: Sequence[str],
                      eval_steps: Optional[int]) -> InputConfig:
  """The input of evaluations during training (and of the Tuner's trials): global batches of
  the first max_eval_examples examples, unless EvalArgs' steps say how many to read."""
  return dataclasses.replace(
      input_config(config, dataset, file_patterns, config.eval_batch_size, is_training=False),
      max_examples=0 if eval_steps else config.max_eval_examples)


def list_files(file_patterns: Sequence[str]) -> Tuple[str, ...]:
  """Expands globs; fails naming the patterns when nothing matches."""
  files = sorted({path for pattern in file_patterns for path in tf.io.gfile.glob(pattern)})
  if not files:
    raise FileNotFoundError(f'no input files match {list(file_patterns)}')
  return tuple(files)


def shard_files(files: Sequence[str],
                input_context: Optional[tf.distribute.InputContext]) -> Tuple[str, ...]:
  """This input pipeline's files: every n-th file, n the number of input pipelines.

  With fewer files than pipelines every pipeline keeps all files and make_dataset shards
  each file by record instead (see record_sharding), so no worker is left without data.
  """
  if not input_context or len(files) < input_context.num_input_pipelines:
    return tuple(files)
  return tuple(files[input_context.input_pipeline_id::input_context.num_input_pipelines])


def record_sharding(files: Sequence[str],
                    input_context: Optional[tf.distribute.InputContext]) -> Tuple[int, int]:
  """(num_shards, index) for sharding each file by record: (1, 0) when sharding by file."""
  if not input_context or len(files) >= input_context.num_input_pipelines:
    return 1, 0
  return input_context.num_input_pipelines, input_context.input_pipeline_id


def check_shards(files: Sequence[str], whole_files: bool = False) -> None:
  """Raises CorruptShardError naming the first file that is not a readable TFRecord file.

  Reads each file's first record only (cheap), or every record with `whole_files`.
  tf.data's own DataLossError does not say which file it was reading.
  """
  for path in files:
    compression = example_files.compression_of(path)
    kind = 'GZIP' if compression == 'gzip' else 'uncompressed'
    records = tf.data.TFRecordDataset(
        path, compression_type=example_files.tf_compression_type(path))
    try:
      for _ in (records if whole_files else records.take(1)):
        pass
    except tf.errors.DataLossError as error:
      raise CorruptShardError(
          f'{path}: not a readable {kind} TFRecord file '
          f'({_TF_ERROR_WRAPPING.sub("", error.message)})') from None
    # TF reads a GZIP file cut short on a record boundary as a clean end of file: the
    # records after the cut are lost without an error. The GZIP trailer says whether the
    # file is whole.
    if whole_files and compression == 'gzip' and not _gzip_stream_is_whole(path):
      raise CorruptShardError(
          f'{path}: GZIP file cut short (no end-of-stream marker): records after the cut '
          f'are missing. Re-copy or regenerate the file.')


def _gzip_stream_is_whole(path: str, chunk_bytes: int = 1 << 20) -> bool:
  """Whether every GZIP member in `path` ends with its end-of-stream marker."""
  decompressor = zlib.decompressobj(wbits=31)
  with tf.io.gfile.GFile(path, 'rb') as f:
    while chunk := f.read(chunk_bytes):
      while chunk:
        decompressor.decompress(chunk)
        # Bytes past a member's end are the next member (concatenated GZIP files).
        chunk = decompressor.unused_data if decompressor.eof else b''
        if chunk:
          decompressor = zlib.decompressobj(wbits=31)
  return decompressor.eof


def count_records(files: Sequence[str]) -> int:
  """Records in the TFRecord `files` (each read as its name says)."""
  records = tf.data.Dataset.from_tensor_slices(
      (list(files), [example_files.tf_compression_type(path) for path in files])).interleave(
          tf.data.TFRecordDataset, num_parallel_calls=tf.data.AUTOTUNE)
  return int(records.reduce(tf.constant(0, tf.int64), lambda count, _: count + 1).numpy())


def should_cache(files: Sequence[str], config: InputConfig,
                 decode: Optional[kinds.Decoder] = None) -> bool:
  """config.cache when set; else whether what is cached fits cache_budget_bytes: the decoded
  examples (records x the decoder's decoded_example_bytes) when the decoder says their size,
  else the files, decompressed."""
  if config.cache is not None:
    return config.cache
  example_bytes = getattr(decode, 'decoded_example_bytes', None)
  if example_bytes is not None:
    count = count_records(files)
    if config.max_examples:
      count = min(count, config.max_examples)
    return count * example_bytes <= config.cache_budget_bytes
  decompressed = sum(
      tf.io.gfile.stat(path).length *
      (config.decompressed_size_ratio if example_files.compression_of(path) == 'gzip' else 1.0)
      for path in files)
  return decompressed <= config.cache_budget_bytes


def make_dataset(
    config: InputConfig,
    decode: Union[kinds.Decoder, kinds.FeatureSpec],
    input_context: Optional[tf.distribute.InputContext] = None,
) -> tf.data.Dataset:
  """Returns a dataset of (features, label) batches of `config.batch_size` examples.

  `decode`: the data kind's decoder (trainer/kinds.py: a batch of serialized examples -> a dict
  of tensors, the label among them), or a feature spec to parse with tf.io.parse_example.
  Training data repeats forever and is shuffled; evaluation data is read once, in order.
  """
  decode = kinds.as_decoder(decode)
  all_files = list_files(config.file_patterns)
  # Shard by file, before anything else, so each worker reads a disjoint part of the data.
  files = shard_files(all_files, input_context)
  # Fail now, naming the file, rather than mid-training with an anonymous DataLossError.
  check_shards(files)
  if len(files) < config.cycle_length:
    logging.warning('%d input file(s) for cycle_length %d: fewer shards are read in parallel '
                    'than configured (NUM_SHARDS sets how many files Transform writes)',
                    len(files), config.cycle_length)
  num_record_shards, record_shard = record_sharding(all_files, input_context)
  deterministic = config.is_deterministic
  cache = should_cache(files, config, decode)
  # A decoder that knows its decoded size (an image's) is costly: decode before the cache.
  decode_first = (getattr(decode, 'decoded_example_bytes', None) is not None and
                  config.parse_after_batch)
  logging.info('%s input: %d of %d file(s), record shard %d of %d, cache=%s, '
               'deterministic=%s', 'training' if config.is_training else 'evaluation',
               len(files), len(all_files), record_shard, num_record_shards, cache,
               deterministic)

  # Each file with its compression type, told from its name ('.gz': GZIP).
  dataset = tf.data.Dataset.from_tensor_slices(
      (list(files), [example_files.tf_compression_type(path) for path in files]))
  if config.is_training:
    # Shuffle file order so each epoch visits shards differently (cheap: it is just names).
    dataset = dataset.shuffle(len(files), seed=config.seed, reshuffle_each_iteration=True)
  # Read several shards at once: overlaps decompression and I/O across files. Order only
  # matters for evaluation, so training lets whichever shard is ready go first. Sharding each
  # file by record (only when there are fewer files than workers) keeps workers disjoint
  # whatever the interleave order.
  dataset = dataset.interleave(
      lambda path, compression: tf.data.TFRecordDataset(path, compression).shard(
          num_record_shards, record_shard),
      cycle_length=min(config.cycle_length, len(files)),
      num_parallel_calls=tf.data.AUTOTUNE,
      deterministic=deterministic)
  if config.holdout_buckets:
    # Before the cache and the in-memory load, so each holds only its side of the slice; a
    # hash of the bytes, not a position, so the order the shards are read in does not matter.
    held_out = config.holdout
    dataset = dataset.filter(lambda record: tf.equal(
        tf.strings.to_hash_bucket_fast(record, config.holdout_buckets), 0) == held_out)
  if config.max_examples:
    # Before the cache, so a cache holds only what is read.
    dataset = dataset.take(config.max_examples)

  # Training data that fits: parsed once into columns, permuted per epoch, so no step parses
  # or shuffles on the cores the model trains on (trainer/in_memory_input.py). Loading needs
  # eager execution; inside a graph the streaming path below is used.
  if config.is_training and tf.executing_eagerly() and (
      cache and config.parse_after_batch if config.in_memory is None else config.in_memory):
    try:
      columns, count = in_memory_input.load_columns(dataset, decode, config.label_key)
    except tf.errors.DataLossError:
      check_shards(files, whole_files=True)  # Names the file when it can...
      raise  # ...else TensorFlow's own error.
    if count >= config.batch_size:
      return _finish(in_memory_input.epochs(columns, count, config.batch_size,
                                            config.label_key, config.seed), deterministic)
    logging.info('%d training examples make no batch of %d in memory: streaming them', count,
                 config.batch_size)

  if decode_first:
    # Batch, parse and decode (in parallel, within and across batches), then unbatch: the cache
    # below holds decoded tensors, so an image is decoded once per run, not once per epoch.
    dataset = dataset.batch(config.batch_size).map(
        decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic).unbatch()
  if cache:
    # Cache serialized records after decompression: later epochs skip file reads and GZIP.
    # Caching before shuffle keeps the cache valid while each epoch is still reshuffled.
    dataset = dataset.cache()
  if config.is_training:
    dataset = dataset.shuffle(config.shuffle_buffer_size, seed=config.seed)
    # Repeat after shuffling so epochs do not blend; Keras counts steps, not passes.
    dataset = dataset.repeat()

  if decode_first:
    dataset = dataset.batch(config.batch_size, drop_remainder=config.is_training).map(
        lambda decoded: _features_and_label(decoded, config.label_key))
  elif config.parse_after_batch:
    # Batch first, then parse the whole batch with one vectorized parse_example call: far
    # fewer, larger ops than parsing example by example.
    dataset = dataset.batch(config.batch_size, drop_remainder=config.is_training)
    dataset = dataset.map(
        lambda records: _features_and_label(decode(records), config.label_key),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=deterministic)
  else:
    # Record-by-record parsing (for comparison): a parse op per example, then batching.
    dataset = dataset.map(
        lambda record: _features_and_label(decode(record), config.label_key),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=deterministic)
    dataset = dataset.batch(config.batch_size, drop_remainder=config.is_training)
  return _finish(dataset, deterministic)


def _finish(dataset: tf.data.Dataset, deterministic: bool) -> tf.data.Dataset:
  options = tf.data.Options()
  # Non-deterministic order is only allowed while training; evaluation stays repeatable.
  options.deterministic = deterministic
  # Sharding is done explicitly above (by file, else by record); stop tf.distribute from
  # sharding again when it distributes this dataset.
  options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
  # Let tf.data tune parallelism and buffer sizes (AUTOTUNE above) within its RAM budget.
  options.autotune.enabled = True
  dataset = dataset.with_options(options)
  # Prefetch last so the next batch is prepared while the accelerator runs the current step.
  return dataset.prefetch(tf.data.AUTOTUNE)


def _features_and_label(decoded, label_key):
  """(features, label) of a decoded batch (or one decoded record)."""
  label = decoded.pop(label_key)
  return decoded, label
