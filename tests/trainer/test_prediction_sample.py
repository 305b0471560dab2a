"""trainer/prediction_sample.py: a regression's sample of values; none for a table's classifier
(its confusion matrix comes from the Evaluator). The image classifier's sample:
tests/trainer/images/test_prediction_grid.py."""

import json
import os

import tensorflow as tf

from trainer import input_pipeline
from trainer import kinds
from trainer import prediction_sample

_SPEC = {'x': tf.io.FixedLenFeature([], tf.float32), 'y': tf.io.FixedLenFeature([], tf.int64)}


def _shard(path, rows):
  with tf.io.TFRecordWriter(str(path)) as writer:
    for x, y in rows:
      writer.write(tf.train.Example(features=tf.train.Features(feature={
          'x': tf.train.Feature(float_list=tf.train.FloatList(value=[x])),
          'y': tf.train.Feature(int64_list=tf.train.Int64List(value=[y]))})).SerializeToString())
  return str(path)


def _model(outputs):
  x = tf.keras.Input((), name='x')
  return tf.keras.Model({'x': x}, tf.keras.layers.Dense(outputs)(tf.reshape(x, [-1, 1])))


def test_a_regression_samples_values_and_a_tables_classifier_nothing(tmp_path):
  shard = _shard(tmp_path / 'eval.tfrecord', [(float(i), i % 3) for i in range(10)])
  eval_input = input_pipeline.InputConfig((shard,), 4, False, 'y')
  decode = kinds.ExampleDecoder(_SPEC)
  path = prediction_sample.write(_model(1), eval_input, decode, str(tmp_path))
  sample = json.loads(open(path).read())
  assert sample['labels'] == [float(i % 3) for i in range(10)]
  assert len(sample['predictions']) == 10
  os.remove(path)
  assert prediction_sample.write(_model(3), eval_input, decode, str(tmp_path)) is None
  assert not os.path.exists(path)
