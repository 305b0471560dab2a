"""The Keras model over transformed taxi features: embeddings for ids, an MLP on top."""

from typing import Dict

import tensorflow as tf

from trainer.config import ModelConfig
from transform import features


def id_feature_sizes() -> Dict[str, int]:
  """Transformed id features and how many distinct ids each can take."""
  sizes = {}
  for key in features.VOCAB_FEATURE_KEYS:
    sizes[features.transformed_name(key)] = features.VOCAB_SIZE + features.OOV_SIZE
  for key in features.BUCKET_FEATURE_KEYS:
    # bucketize yields ids 0..FEATURE_BUCKET_COUNT-1.
    sizes[features.transformed_name(key)] = features.FEATURE_BUCKET_COUNT
  for key, num_ids in features.CATEGORICAL_FEATURE_IDS.items():
    sizes[features.transformed_name(key)] = num_ids
  return sizes


def build_keras_model(config: ModelConfig = ModelConfig()) -> tf.keras.Model:
  """Returns a compiled binary classifier taking a dict of transformed features.

  Every input has shape [batch] (scalars per example), matching what the input_fn and the
  serving signature's TFT layer produce.
  """
  dense_inputs = {
      name: tf.keras.Input(shape=(), name=name, dtype=tf.float32)
      for name in features.transformed_names(features.DENSE_FLOAT_FEATURE_KEYS)
  }
  id_inputs = {
      name: tf.keras.Input(shape=(), name=name, dtype=tf.int64) for name in id_feature_sizes()
  }

  parts = [tf.keras.layers.Reshape((1,))(value) for value in dense_inputs.values()]
  for name, num_ids in id_feature_sizes().items():
    dim = min(config.embedding_dim, num_ids)
    embedding = tf.keras.layers.Embedding(num_ids, dim, name=f'{name}_embedding')
    parts.append(embedding(id_inputs[name]))
  hidden = tf.keras.layers.Concatenate()(parts)
  for units in config.hidden_units:
    hidden = tf.keras.layers.Dense(units, activation='relu')(hidden)
    if config.dropout:
      hidden = tf.keras.layers.Dropout(config.dropout)(hidden)
  output = tf.keras.layers.Dense(1, activation='sigmoid', name='big_tipper')(hidden)

  model = tf.keras.Model({**dense_inputs, **id_inputs}, output)
  model.compile(
      optimizer=tf.keras.optimizers.Adam(learning_rate=config.learning_rate),
      loss='binary_crossentropy',
      metrics=[tf.keras.metrics.BinaryAccuracy()])
  return model
