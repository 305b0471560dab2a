"""Transformed-style image examples for the Trainer's tests: what Transform writes for the image
kind (IMAGE_FEATURE: the encoded bytes as read; LABEL_FEATURE: the class index), from a folder
of class subfolders such as datadefs/images/digits.py writes, and a Dataset built directly."""

import os
from pathlib import Path
from typing import List, Sequence, Tuple

import tensorflow as tf

from datadefs.definition import Column, Dataset, Label
from datadefs.images import digits
from datadefs.images.spec import IMAGE_FEATURE, LABEL_FEATURE, Augmentation, ImageSpec


def image_dataset(size: int = 64, channels: int = 3, model: str = 'small_cnn',
                  augmentation: Augmentation = Augmentation(),
                  classes: Sequence[str] = digits.CLASSES, weights_file: str = '') -> Dataset:
  return Dataset(
      name='digits', task='multiclass', kind='image', model=model,
      columns=(Column('image', 'string'), Column('label', 'string')),
      label=Label('label', classes=tuple(classes)), blessing_threshold=0.5,
      image=ImageSpec(size=size, channels=channels, augmentation=augmentation,
                      weights_file=weights_file))


def image_files(folder: Path, classes: Sequence[str] = digits.CLASSES
                ) -> List[Tuple[Path, int]]:
  """(file, class index) of every image under folder/<class>/, in name order."""
  return [(path, index) for index, name in enumerate(classes)
          for path in sorted((folder / name).iterdir())]


def example(encoded: bytes, label: int) -> bytes:
  return tf.train.Example(features=tf.train.Features(feature={
      IMAGE_FEATURE: tf.train.Feature(bytes_list=tf.train.BytesList(value=[encoded])),
      LABEL_FEATURE: tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
  })).SerializeToString()


def write_shards(files: Sequence[Tuple[Path, int]], directory: Path, num_shards: int = 2
                 ) -> List[str]:
  """GZIP TFRecord shards of transformed examples of `files`, round robin; their paths."""
  os.makedirs(directory, exist_ok=True)
  paths = [str(directory / f'transformed-{i:05d}-of-{num_shards:05d}.gz')
           for i in range(num_shards)]
  writers = [tf.io.TFRecordWriter(path, options='GZIP') for path in paths]
  for index, (path, label) in enumerate(files):
    writers[index % num_shards].write(example(path.read_bytes(), label))
  for writer in writers:
    writer.close()
  return paths


FEATURE_SPEC = {IMAGE_FEATURE: tf.io.FixedLenFeature([], tf.string),
                LABEL_FEATURE: tf.io.FixedLenFeature([], tf.int64)}
