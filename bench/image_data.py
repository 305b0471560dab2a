"""The image benchmark's data (bench/images.py): the bundled digits written as files at one size
(datadefs/images/digits.py), then the same images in the layouts the benchmark reads:

  encoded   GZIP TFRecords of tf.Examples {IMAGE_FEATURE: the file's bytes, LABEL_FEATURE}:
            what our Trainer gets from the ExampleGen's examples through the Transform graph
            (which passes the bytes through and maps the label; the benchmark leaves that
            graph out: it runs once per image, before the cache).
  float32   GZIP TFRecords of tf.Examples {IMAGE_FEATURE: float32 pixels [size, size, channels]
            after decode and resize, LABEL_FEATURE}: what decoding in the preprocessing_fn
            (TFX's CIFAR-10 layout) writes.
  arrays    uint8 pixels and labels preloaded in memory (the ceiling; nothing is written).

Files are made once per size and seed under the data folder and reused by later runs.
"""

import dataclasses
import os
from pathlib import Path
from typing import List, Tuple

import numpy as np
import tensorflow as tf

from datadefs.images import digits
from datadefs.images.spec import IMAGE_FEATURE, LABEL_FEATURE
from trainer.images.decode import decode_batch

CHANNELS = 3
_EXTENSIONS = ('.png', '.jpg')
_DONE = '.complete'


@dataclasses.dataclass(frozen=True)
class ImageBenchData:
  """One size's images: the files (sorted by class then name), their labels, and the layouts."""
  size: int
  paths: Tuple[str, ...]
  labels: Tuple[int, ...]
  encoded_file: str
  float_file: str
  # Images written at this size (all the digits), of which `paths` are used.
  written: int = 0

  @property
  def images(self) -> int:
    return len(self.paths)

  @property
  def is_subset(self) -> bool:
    return self.images < self.written

  def bytes_per_example(self) -> dict:
    """Bytes per image of each layout: the image files, each TFRecord file as written (GZIP),
    and the decoded pixels in memory as uint8 and as float32."""
    pixels = self.size * self.size * CHANNELS
    return {
        'image_files': round(sum(os.path.getsize(p) for p in self.paths) / self.images),
        'encoded_tfrecord_gzip': round(os.path.getsize(self.encoded_file) / self.images),
        'float32_tfrecord_gzip': round(os.path.getsize(self.float_file) / self.images),
        'decoded_uint8_in_memory': pixels,
        'decoded_float32_in_memory': pixels * 4,
    }

  def preload(self) -> Tuple[np.ndarray, np.ndarray]:
    """All images decoded and resized by the trainer's decode (uint8), and their labels."""
    return decode_files(self.paths, self.size), np.asarray(self.labels, np.int64)


def list_images(folder: Path) -> Tuple[List[str], List[int]]:
  """The image files under folder/<class name>/ and each one's class index."""
  paths, labels = [], []
  for index, name in enumerate(digits.CLASSES):
    class_dir = folder / name
    for path in sorted(class_dir.iterdir()):
      if path.suffix in _EXTENSIONS:
        paths.append(str(path))
        labels.append(index)
  return paths, labels


def subset(paths: List[str], labels: List[int], limit: int, seed: int
           ) -> Tuple[List[str], List[int]]:
  """At most `limit` images (0: all), a seeded random choice kept in file order."""
  if not limit or limit >= len(paths):
    return paths, labels
  keep = np.sort(np.random.default_rng(seed).choice(len(paths), size=limit, replace=False))
  return [paths[i] for i in keep], [labels[i] for i in keep]


def decode_files(paths, size: int) -> np.ndarray:
  """uint8 [N, size, size, CHANNELS] of the files, by trainer/images/decode.py's decode."""
  out = []
  for start in range(0, len(paths), 256):
    encoded = tf.constant([Path(p).read_bytes() for p in paths[start:start + 256]])
    out.append(decode_batch(encoded, size, CHANNELS).numpy())
  return np.concatenate(out) if out else np.zeros([0, size, size, CHANNELS], np.uint8)


def _bytes(value: bytes) -> tf.train.Feature:
  return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def _int(value: int) -> tf.train.Feature:
  return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))


def _floats(values: np.ndarray) -> tf.train.Feature:
  return tf.train.Feature(float_list=tf.train.FloatList(value=values.ravel()))


def _write(path: str, examples) -> None:
  options = tf.io.TFRecordOptions(compression_type='GZIP')
  with tf.io.TFRecordWriter(path, options) as writer:
    for features in examples:
      writer.write(tf.train.Example(
          features=tf.train.Features(feature=features)).SerializeToString())


def write_layouts(paths, labels, size: int, encoded_file: str, float_file: str) -> None:
  """Writes the encoded and the float32 TFRecord files of the images."""
  _write(encoded_file, ({IMAGE_FEATURE: _bytes(Path(p).read_bytes()), LABEL_FEATURE: _int(l)}
                        for p, l in zip(paths, labels)))
  pixels = decode_files(paths, size).astype(np.float32)
  _write(float_file, ({IMAGE_FEATURE: _floats(image), LABEL_FEATURE: _int(l)}
                      for image, l in zip(pixels, labels)))


def ensure_data(data_dir: str, size: int, limit: int = 0, seed: int = 0) -> ImageBenchData:
  """The digits at `size` px (at most `limit` images, 0: all) and their layouts under
  data_dir/images-<size>px-<limit>; made when missing, else reused."""
  root = Path(data_dir).resolve() / f'images-{size}px-{limit or "all"}-seed{seed}'
  encoded_file = str(root / 'encoded.tfrecord.gz')
  float_file = str(root / 'float32.tfrecord.gz')
  if not (root / _DONE).exists():
    root.mkdir(parents=True, exist_ok=True)
    digits.write_digits(root / 'files', size=size, seed=seed)
    paths, labels = subset(*list_images(root / 'files'), limit, seed)
    write_layouts(paths, labels, size, encoded_file, float_file)
    (root / 'kept.txt').write_text('\n'.join(paths) + '\n')
    (root / _DONE).write_text('')
  kept = set((root / 'kept.txt').read_text().split())
  paths, labels = list_images(root / 'files')
  chosen = [(p, l) for p, l in zip(paths, labels) if p in kept]
  return ImageBenchData(size=size, paths=tuple(p for p, _ in chosen),
                        labels=tuple(l for _, l in chosen), encoded_file=encoded_file,
                        float_file=float_file, written=len(paths))
