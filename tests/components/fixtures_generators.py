"""Sample loaders the GeneratorExampleGen tests name by import path.

Everything is computed from the batch index or partition, so any worker rebuilds the same data.
"""

from typing import Iterator, List, Optional

import numpy as np

import components  # pylint: disable=unused-import  # Sets TF_USE_LEGACY_KERAS before TF.
import tf_keras

NOT_A_LOADER = 42


def image_batch(index: int, batch_size: int):
  """Batch `index` of ImageSequence: uint8 [batch, 28, 28, 1] images and int64 labels."""
  rng = np.random.default_rng(index)
  images = rng.integers(0, 256, size=(batch_size, 28, 28, 1), dtype=np.uint8)
  labels = (np.arange(batch_size, dtype=np.int64) + index) % 10
  return images, labels


class ImageSequence(tf_keras.utils.Sequence):
  """({'image': uint8 [b, 28, 28, 1]}, labels [b]) batches, as model.fit would take them.

  bad_batch: this batch's images are [b, 28, 27, 1] instead.
  """

  def __init__(self, num_batches: int, batch_size: int, bad_batch: Optional[int] = None):
    super().__init__()
    self.num_batches = num_batches
    self.batch_size = batch_size
    self.bad_batch = bad_batch

  def __len__(self) -> int:
    return self.num_batches

  def __getitem__(self, index: int):
    images, labels = image_batch(index, self.batch_size)
    if index == self.bad_batch:
      images = images[:, :, :27, :]
    return {'image': images}, labels


class XYSequence:
  """Not a Keras class: (x float32 [b, 3], y int64 [b], sample_weight float32 [b]) batches."""

  def __init__(self, num_batches: int = 3, batch_size: int = 4):
    self.num_batches = num_batches
    self.batch_size = batch_size

  def __len__(self) -> int:
    return self.num_batches

  def __getitem__(self, index: int):
    first = index * self.batch_size
    x = np.arange(first * 3, (first + self.batch_size) * 3, dtype=np.float32).reshape(-1, 3)
    y = np.arange(first, first + self.batch_size, dtype=np.int64)
    return x, y, np.full(self.batch_size, 0.5, dtype=np.float32)


def id_rows(ids: List[int]):
  """The dict batch a generator yields for these ids: scalars of every supported kind."""
  ids_array = np.asarray(ids, dtype=np.int64)
  return {
      'id': ids_array,
      'name': np.asarray([f'trip-{i}' for i in ids]),
      'blob': np.asarray([bytes([i % 256, 0]) for i in ids], dtype=object),
      'flag': ids_array % 2 == 0,
      'score': (ids_array / 4).astype(np.float32),
  }


def id_batches(shard_index: int, num_shards: int, total: int = 100, batch_size: int = 7,
               bad_element: Optional[List[int]] = None) -> Iterator[dict]:
  """Partition shard_index of num_shards: the ids i < total with i % num_shards == shard_index.

  bad_element: [partition, element] whose 'score' is float64 instead of float32.
  """
  mine = [i for i in range(total) if i % num_shards == shard_index]
  for element, start in enumerate(range(0, len(mine), batch_size)):
    batch = id_rows(mine[start:start + batch_size])
    if bad_element == [shard_index, element]:
      batch['score'] = batch['score'].astype(np.float64)
    yield batch
