"""runs/precheck.py: TFRecord files to import are checked record by record, each read with
the compression its name says, and a bad one is named."""

import pytest
import tensorflow as tf

from runs import precheck as sources


def _example(value: int) -> bytes:
  return tf.train.Example(features=tf.train.Features(feature={'x': tf.train.Feature(
      int64_list=tf.train.Int64List(value=[value]))})).SerializeToString()


def _write(path, records, compression=''):
  with tf.io.TFRecordWriter(str(path), options=compression) as writer:
    for record in records:
      writer.write(record)
  return str(path)


def test_gzip_and_uncompressed_files_of_examples_pass(tmp_path):
  sources.check_tfrecord_files([
      _write(tmp_path / 'a.gz', [_example(1)], 'GZIP'),
      _write(tmp_path / 'b.tfrecord', [_example(2), _example(3)])])


def test_gzip_content_in_a_file_not_named_gz_is_named(tmp_path):
  path = _write(tmp_path / 'examples.tfrecord', [_example(1)] * 20, 'GZIP')
  with pytest.raises(ValueError, match=(
      f'{path} is not a valid uncompressed TFRecord file \\(only files named \\*.gz are read as '
      'GZIP\\)')):
    sources.check_tfrecord_files([path])


def test_records_that_are_not_examples_are_named(tmp_path):
  path = _write(tmp_path / 'text.tfrecord', [b'\xff\xfe not a proto'])
  with pytest.raises(ValueError, match=f'{path} holds a record that is not a tf.Example'):
    sources.check_tfrecord_files([path])


def test_no_files_is_an_error():
  with pytest.raises(FileNotFoundError, match='no TFRecord files to import'):
    sources.check_tfrecord_files([])
