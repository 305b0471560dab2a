"""Training input held in memory as parsed columns: parse once, then each epoch is one bulk
permutation of every column and contiguous batch slices of it.

Why (make_dataset uses this for training data that fits the cache budget): the streaming
path's steady state still shuffles, batches and parses every example on every pass, on the
cores the model trains on. `make bench`'s paired windows measured that path at 0.78x the
in-memory ceiling's fit on 2 cores; this one at 0.94x-1.06x over four runs. Per-step gathers
of random rows were tried first: 0.85x (one cache miss per row and feature, on the step's
critical path); permuting whole columns once per epoch in a bulk op costs a fraction of that.

Memory: the columns, plus one permuted copy while an epoch is sliced. The load runs eagerly
when the dataset is made (a corrupt shard is named then, not mid-training).

Shuffling is exact: every epoch is a fresh uniform permutation of all the examples (the
streaming path shuffles within a 10,000-example buffer). The last `n % batch_size` examples
of each permutation are left out of that epoch, different ones each time.
"""

from typing import Callable, Dict, Optional, Tuple

from absl import logging
import tensorflow as tf

# Records parsed per parse_example call while loading: big batches, few ops.
_LOAD_BATCH = 8192

Columns = Dict[str, tf.Tensor]


def load_columns(records: tf.data.Dataset, decode: Callable[[tf.Tensor], Columns],
                 label_key: str) -> Tuple[Columns, int]:
  """Decodes every record of `records` (the data kind's decoder, trainer/kinds.py) into one
  tensor per feature (label included); returns the columns and the example count. Runs
  eagerly, now."""
  parsed = records.batch(_LOAD_BATCH).map(decode, num_parallel_calls=tf.data.AUTOTUNE)
  parts = list(parsed)
  if not parts:
    return {}, 0
  columns = {name: tf.concat([part[name] for part in parts], axis=0) for name in parts[0]}
  count = int(columns[label_key].shape[0])
  logging.info('training input: %d examples parsed into memory (%.1f MiB of columns)', count,
               sum(c.numpy().nbytes for c in columns.values()) / (1 << 20))
  return columns, count


def epochs(columns: Columns, count: int, batch_size: int, label_key: str,
           seed: Optional[int] = None) -> tf.data.Dataset:
  """Endless (features, label) batches: epoch after epoch, each a new permutation."""
  if count < batch_size:
    raise ValueError(f'{count} training examples make no batch of {batch_size}: lower the '
                     f'batch size or add data')
  steps = count // batch_size

  def one_epoch(_):
    # One bulk gather per column: memory is read in one pass, not row by row per step.
    order = tf.random.shuffle(tf.range(count), seed=seed)[:steps * batch_size]
    batched = {name: tf.reshape(tf.gather(column, order), [steps, batch_size] + column.shape[1:])
               for name, column in columns.items()}
    label = batched.pop(label_key)
    # Slices come out as (features, label) batches: no per-step function.
    return tf.data.Dataset.from_tensor_slices((batched, label))

  return tf.data.Dataset.range(1).repeat().flat_map(one_epoch)

