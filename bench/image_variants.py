"""The image input pipelines bench/images.py compares. Each makes, from one size's ImageBenchData
and a batch size, an endless source of ({IMAGE_FEATURE: uint8 or float32 pixels}, label)
batches: a tf.data.Dataset or a Keras Sequence (legacy Keras, tf_keras).

A `caches` variant is made anew for every timed run, so its first pass (make included: the
in-memory variant decodes everything there) and its later, warm passes are both measured.
"""

import dataclasses
from typing import Callable, Iterator, Optional, Tuple, Union

import numpy as np
from PIL import Image
import tensorflow as tf

from bench.image_data import CHANNELS, ImageBenchData
from datadefs.images.spec import IMAGE_FEATURE, LABEL_FEATURE
from trainer import input_pipeline
from trainer.images.decoder import ImageDecoder

Source = Union[tf.data.Dataset, tf.keras.utils.Sequence]
CEILING = 'from_tensor_slices'
SEQUENCE = 'keras_sequence_pil'


@dataclasses.dataclass(frozen=True)
class Variant:
  name: str
  description: str
  # make(data, batch_size, ordered=False). `ordered` keeps batches in the order the pipeline
  # makes them (tests count one pass); benchmarks, like training, let parallel maps reorder them.
  make: Callable[..., Source]
  caches: bool = False
  # Sequence sources: Keras enqueuer threads (0: the Sequence indexed in the calling thread).
  workers: Optional[int] = None
  # Reads preloaded arrays: every pass is from memory (timed over more passes).
  from_memory: bool = False


def _config(data: ImageBenchData, batch_size: int, path: str,
            **overrides) -> input_pipeline.InputConfig:
  return input_pipeline.InputConfig(file_patterns=(path,), batch_size=batch_size,
                                    is_training=True, label_key=LABEL_FEATURE, seed=0,
                                    **overrides)


def _decoder(data: ImageBenchData) -> ImageDecoder:
  return ImageDecoder(size=data.size, channels=CHANNELS, label_key=LABEL_FEATURE)


def _encoded(**overrides) -> Callable[[ImageBenchData, int], Source]:
  """Our trainer's make_dataset over the encoded records, as trainer/task.py reads them."""

  def make(data: ImageBenchData, batch_size: int, ordered: bool = False) -> Source:
    return input_pipeline.make_dataset(
        _config(data, batch_size, data.encoded_file, deterministic=ordered or None, **overrides),
        _decoder(data))

  return make


def float_feature_spec(data: ImageBenchData):
  return {IMAGE_FEATURE: tf.io.FixedLenFeature([data.size, data.size, CHANNELS], tf.float32),
          LABEL_FEATURE: tf.io.FixedLenFeature([], tf.int64)}


def _float_records(data: ImageBenchData, batch_size: int, ordered: bool = False) -> Source:
  # Our make_dataset over float pixels: records cached after GZIP, parsed per batch each pass.
  return input_pipeline.make_dataset(
      _config(data, batch_size, data.float_file, cache=True, in_memory=False,
              deterministic=ordered or None),
      float_feature_spec(data))


def pil_image(path: str, size: int) -> np.ndarray:
  """The usual Python recipe: PIL opens, converts to RGB and resizes (antialiased)."""
  with Image.open(path) as image:
    rgb = image.convert('RGB')
    if rgb.size != (size, size):
      rgb = rgb.resize((size, size), Image.BILINEAR, reducing_gap=None)
    return np.asarray(rgb, dtype=np.uint8)


class PilSequence(tf.keras.utils.Sequence):
  """Batches of image files decoded by PIL, in a fixed shuffled order (legacy Keras API)."""

  def __init__(self, data: ImageBenchData, batch_size: int):
    super().__init__()
    order = np.random.default_rng(0).permutation(data.images)
    self._paths = [data.paths[i] for i in order]
    self._labels = np.asarray(data.labels, np.int64)[order]
    self._size = data.size
    self._batch_size = batch_size

  def __len__(self) -> int:
    return len(self._paths) // self._batch_size

  def __getitem__(self, index: int) -> Tuple[dict, np.ndarray]:
    index %= len(self)  # Pulled past its length, it wraps: the benchmark counts batches.
    start = index * self._batch_size
    stop = start + self._batch_size
    images = np.stack([pil_image(p, self._size) for p in self._paths[start:stop]])
    return {IMAGE_FEATURE: images}, self._labels[start:stop]


def _sequence(data: ImageBenchData, batch_size: int, ordered: bool = False) -> Source:
  del ordered  # Always in order.
  return PilSequence(data, batch_size)


def sequence_batches(sequence: tf.keras.utils.Sequence) -> Callable[[], Iterator]:
  """A generator function over the Sequence's batches, forever."""

  def generate():
    while True:
      for index in range(len(sequence)):
        yield sequence[index]

  return generate


def _from_generator(data: ImageBenchData, batch_size: int, ordered: bool = False) -> Source:
  del ordered  # Always in order.
  signature = ({IMAGE_FEATURE: tf.TensorSpec([None, data.size, data.size, CHANNELS], tf.uint8)},
               tf.TensorSpec([None], tf.int64))
  return tf.data.Dataset.from_generator(
      sequence_batches(PilSequence(data, batch_size)),
      output_signature=signature).prefetch(tf.data.AUTOTUNE)


def _from_tensor_slices(data: ImageBenchData, batch_size: int, ordered: bool = False) -> Source:
  del ordered  # Always in order.
  images, labels = data.preload()
  dataset = tf.data.Dataset.from_tensor_slices(({IMAGE_FEATURE: images}, labels))
  return (dataset.shuffle(len(labels), seed=0).repeat()
          .batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE))


# Report order: ours, the ablations, the Python baselines, the float layout, the ceiling.
VARIANTS: Tuple[Variant, ...] = (
    Variant('tfdata_cache', 'make_dataset on encoded GZIP records: parallel decode+resize, '
            'cache of decoded uint8, shuffle, prefetch (streaming)',
            _encoded(cache=True, in_memory=False), caches=True),
    Variant('tfdata_in_memory', 'make_dataset as `make run` reads a data set that fits: '
            'decoded once into memory at make, permuted each epoch',
            _encoded(), caches=True),
    Variant('tfdata_no_cache', 'the same streaming pipeline without the cache: every pass '
            'reads, un-GZIPs and decodes again', _encoded(cache=False, in_memory=False)),
    Variant(SEQUENCE + '_alone', 'keras.utils.Sequence, PIL decode, indexed in one thread',
            _sequence, workers=0),
    Variant(SEQUENCE + '_w2', 'the same Sequence through Keras OrderedEnqueuer, workers=2, '
            'use_multiprocessing=False', _sequence, workers=2),
    Variant('from_generator', 'tf.data.Dataset.from_generator over the Sequence\'s batches, '
            'prefetched', _from_generator),
    Variant('float32_records', 'make_dataset on GZIP records of decoded float32 pixels (what '
            'decoding in Transform writes): records cached, parsed per batch',
            _float_records, caches=True),
    Variant(CEILING, 'preloaded uint8 arrays, shuffled, batched, prefetched (ceiling)',
            _from_tensor_slices, from_memory=True),
)


def by_name(names) -> Tuple[Variant, ...]:
  known = {v.name: v for v in VARIANTS}
  unknown = [n for n in names if n not in known]
  if unknown:
    raise ValueError(f'unknown variant(s) {unknown}; choose from {sorted(known)}')
  return tuple(v for v in VARIANTS if v.name in set(names))
