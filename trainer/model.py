"""The models a dataset can name (`model` in its definition: datadefs/kinds.py lists each data
kind's), built by name. `mlp`, the tabular default: embeddings for ids, an MLP, and the head its
task kind builds (datadefs/tasks.py). `gradient_boosted_trees`: TensorFlow Decision Forests'
gradient-boosted trees on the same transformed features (trainer/trees.py). The image models are
in trainer/images/models.py."""

from typing import Callable, Dict, Optional

import tensorflow as tf

from datadefs.definition import Dataset
from datadefs.tasks import Moments
from trainer import autograph_rules
from trainer.config import DEFAULT_HIDDEN_UNITS, ModelConfig
from trainer.images import models as image_models

# Every caller that builds this model traces Keras next (fit, the Tuner's trials, the serving
# signatures): first AutoGraph is told to leave tf_keras as it is (trainer/autograph_rules.py).
autograph_rules.leave_tf_keras_unconverted()


def id_feature_sizes(dataset: Dataset) -> Dict[str, int]:
  """Transformed id features and how many distinct ids each can take."""
  return {name: ids for name, ids in dataset.model_inputs().items() if ids}


def build_keras_model(dataset: Dataset, config: ModelConfig = ModelConfig(),
                      label_moments: Optional[Moments] = None) -> tf.keras.Model:
  """Returns a compiled model taking a dict of transformed features.

  Every input has shape [batch] (scalars per example), matching what the input_fn and the
  serving signature's TFT layer produce. `label_moments`: the training label's mean and
  standard deviation, which a regression head predicts around.
  """
  dense_inputs = {
      name: tf.keras.Input(shape=(), name=name, dtype=tf.float32)
      for name, ids in dataset.model_inputs().items() if not ids
  }
  sizes = id_feature_sizes(dataset)
  id_inputs = {name: tf.keras.Input(shape=(), name=name, dtype=tf.int64) for name in sizes}
  # An L2 penalty on every weight matrix but the head's (config.l2 -1: not sized, none).
  penalty = tf.keras.regularizers.L2(config.l2) if config.l2 > 0 else None

  parts = [tf.keras.layers.Reshape((1,))(value) for value in dense_inputs.values()]
  for name, num_ids in sizes.items():
    dim = min(config.embedding_dim, num_ids)
    embedding = tf.keras.layers.Embedding(num_ids, dim, name=f'{name}_embedding',
                                          embeddings_regularizer=penalty)
    parts.append(embedding(id_inputs[name]))
  hidden = parts[0] if len(parts) == 1 else tf.keras.layers.Concatenate()(parts)
  for units in config.hidden_units or DEFAULT_HIDDEN_UNITS:
    hidden = tf.keras.layers.Dense(units, activation='relu', kernel_regularizer=penalty)(hidden)
    if config.dropout:
      hidden = tf.keras.layers.Dropout(config.dropout)(hidden)
  head = dataset.task_kind.head(dataset.num_outputs, label_moments)
  model = tf.keras.Model({**dense_inputs, **id_inputs}, head.output(hidden))
  model.compile(
      optimizer=tf.keras.optimizers.Adam(learning_rate=config.learning_rate),
      loss=head.loss,
      loss_weights=[head.loss_weight],
      metrics=head.metrics())
  return model


TREES = 'gradient_boosted_trees'


def build_trees(dataset: Dataset, config: ModelConfig = ModelConfig(),
                label_moments: Optional[Moments] = None) -> tf.keras.Model:
  """TensorFlow Decision Forests' gradient-boosted trees (trainer/trees.py), compiled."""
  # Imported here: TF-DF (and its ops) loads only for a dataset that names trees.
  from trainer import trees  # pylint: disable=import-outside-toplevel
  return trees.build(dataset, config, label_moments)


# name -> (dataset, model config, label moments) -> a compiled Keras model.
MODELS: Dict[str, Callable[..., tf.keras.Model]] = {
    'mlp': build_keras_model,
    TREES: build_trees,
    'small_cnn': image_models.small_cnn,
    'mobilenet_v3_small': image_models.mobilenet_v3_small,
}
# Models grown in one ordered pass over the training split on one worker, outside the
# tf.distribute strategy (trainer/trees.py); every other model trains under the strategy.
ONE_PASS_MODELS = (TREES,)


def build(dataset: Dataset, config: ModelConfig = ModelConfig(),
          label_moments: Optional[Moments] = None) -> tf.keras.Model:
  """The model the dataset names (its kind's default when it names none), compiled."""
  return MODELS[dataset.model_name](dataset, config, label_moments)
