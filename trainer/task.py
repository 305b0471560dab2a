"""The Trainer's `run_fn` (referenced as `trainer.task.run_fn`): train, then save for serving."""

from absl import logging
import tensorflow as tf
import tensorflow_transform as tft
from tfx.components.trainer.fn_args_utils import FnArgs

from trainer import input_pipeline
from trainer.config import TrainConfig
from trainer import model as model_lib
from trainer import signatures
from transform import features


def _dataset(file_patterns, tf_transform_output, batch_size, is_training, config):
  return input_pipeline.make_dataset(
      input_pipeline.InputConfig(
          file_patterns=tuple(file_patterns),
          batch_size=batch_size,
          is_training=is_training,
          label_key=features.TRANSFORMED_LABEL_KEY,
          cycle_length=config.cycle_length,
          cache_budget_bytes=config.cache_budget_bytes),
      tf_transform_output.transformed_feature_spec())


def run_fn(fn_args: FnArgs):
  """Trains the model on Transform's output and saves it with serving signatures."""
  config = TrainConfig.from_custom_config(fn_args.custom_config)
  tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
  logging.info('Training with %s', config)

  train_dataset = _dataset(fn_args.train_files, tf_transform_output, config.batch_size, True,
                           config)
  eval_dataset = _dataset(fn_args.eval_files, tf_transform_output, config.eval_batch_size,
                          False, config)
  model = model_lib.build_keras_model(config.model)
  model.fit(
      train_dataset,
      epochs=1,
      steps_per_epoch=fn_args.train_steps,
      validation_data=eval_dataset,
      validation_steps=fn_args.eval_steps,
      callbacks=[tf.keras.callbacks.TensorBoard(log_dir=fn_args.model_run_dir)],
      verbose=2)
  model.save(fn_args.serving_model_dir, save_format='tf',
             signatures=signatures.serving_signatures(model, tf_transform_output))
