"""The Trainer's `run_fn` (referenced as `trainer.task.run_fn`): train, then save for serving.

`run_fn` is the edge: it reads TF_CONFIG and TFX's arguments; `train` and `save_model` take
everything as arguments, so tests drive them with any strategy.
"""

import dataclasses
import os
import shutil
import tempfile
from typing import Optional, Sequence

from absl import logging
import tensorflow as tf
import tensorflow_transform as tft
from tfx.components.trainer.fn_args_utils import FnArgs

from trainer import batch_norm
from trainer import decision
from trainer import input_monitor
from trainer import input_pipeline
from trainer import kinds
from trainer import model as model_lib
from trainer import prediction_sample
from trainer import raw_input
from trainer import signatures
from trainer import sizing
from trainer import step_metrics
from trainer import tuning
from trainer import validation
from trainer import strategy as strategy_lib
from trainer.config import TrainConfig
from core.names import GPU_STAND_IN_ENV, TPU_STAND_IN_ENV
from datadefs.definition import Dataset


def run_fn(fn_args: FnArgs):
  """Trains the model on the examples the pipeline gives it (Transform's, or the ExampleGen's
  through the Transform graph: trainer/raw_input.py) and saves it with serving signatures."""
  config = TrainConfig.from_custom_config(fn_args.custom_config)
  dataset = Dataset.from_custom_config(fn_args.custom_config, 'Trainer')
  if fn_args.hyperparameters:
    # The Tuner's best trial (trainer/tuning.py).
    config = dataclasses.replace(config, model=tuning.apply_hyperparameters(
        config.model, fn_args.hyperparameters.get('values', {})))
  logging.info('Training %s with %s', dataset.name, config)
  # TF_CONFIG is read here, once, and passed on.
  cluster = strategy_lib.parse_tf_config(os.environ.get('TF_CONFIG'))
  if dataset.model_name in model_lib.ONE_PASS_MODELS:
    _run_one_pass_model(fn_args, config, dataset, cluster)
    return
  # The strategy comes first: multi-worker collectives must be set up before TensorFlow runs
  # any op.
  distribution = strategy_lib.create(config, cluster, _stand_ins())
  tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
  decode = raw_input.input_decoder(dataset, tf_transform_output)
  train_steps = fn_args.train_steps
  if train_steps is None:
    # Not set by the user or the dataset: size the run from the data.
    config, train_steps = sizing.fit_to_rows(
        config, sizing.count_records(fn_args.train_files), distribution.num_replicas)
    logging.info('Training %d steps of batch %d, chosen from the row count', train_steps,
                 config.batch_size)
  model = train(distribution, config, dataset,
                train_files=fn_args.train_files,
                eval_files=fn_args.eval_files,
                decode=decode,
                train_steps=train_steps,
                eval_steps=fn_args.eval_steps,
                log_dir=fn_args.model_run_dir)
  # A binary model's decision threshold, chosen on the validation slice it stopped on.
  threshold = decision.on_holdout(model, config, dataset, fn_args.train_files, decode)
  save_model(distribution, model, fn_args.serving_model_dir,
             signatures.serving_signatures(model, tf_transform_output, dataset, threshold))
  if distribution.is_chief:
    signatures.write_dataset_definition(fn_args.serving_model_dir, dataset)


def _run_one_pass_model(fn_args: FnArgs, config: TrainConfig, dataset: Dataset,
                        cluster: strategy_lib.Cluster) -> None:
  """Trees (trainer/trees.py): one worker's CPU, one ordered pass over the training split, then
  the same serving signatures and dataset definition as the network's."""
  from trainer import trees  # pylint: disable=import-outside-toplevel; loads TF-DF's ops
  trees.check_single_worker(config, cluster)
  if fn_args.train_steps:
    logging.info('%d train steps asked for: trees do not train in steps (they grow up to '
                 '%d trees, stopping early)', fn_args.train_steps, config.model.num_trees)
  tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
  model = trees.train(config, dataset, train_files=fn_args.train_files,
                      eval_files=fn_args.eval_files,
                      decode=raw_input.input_decoder(dataset, tf_transform_output),
                      eval_steps=fn_args.eval_steps, log_dir=fn_args.model_run_dir)
  save_model(trees.single_worker(cluster), model, fn_args.serving_model_dir,
             signatures.serving_signatures(model, tf_transform_output, dataset))
  signatures.write_dataset_definition(fn_args.serving_model_dir, dataset)


def _stand_ins() -> strategy_lib.StandIns:
  """CPU stand-ins for accelerators, which only the local engine sets (vertex_local)."""
  text = os.environ.get(GPU_STAND_IN_ENV, '0') or '0'
  try:
    gpus = int(text)
  except ValueError:
    raise ValueError(f'{GPU_STAND_IN_ENV} must be a whole number, got {text!r}') from None
  return strategy_lib.StandIns(gpus=gpus, tpu=os.environ.get(TPU_STAND_IN_ENV) == '1')


def train(distribution: strategy_lib.Distribution, config: TrainConfig, dataset: Dataset, *,
          train_files: Sequence[str], eval_files: Sequence[str],
          decode: kinds.Decoder, train_steps: int,
          eval_steps: Optional[int], log_dir: str) -> tf.keras.Model:
  """Builds the model under the strategy and fits it; returns the trained model."""
  # Batch sizes are global: check they split over the replicas before anything is read.
  train_batch = strategy_lib.per_replica_batch_size(
      config.batch_size, distribution.num_replicas, 'batch_size')
  strategy_lib.per_replica_batch_size(
      config.eval_batch_size, distribution.num_replicas, 'eval_batch_size')
  # One in holdout_buckets training examples is the validation slice training stops on
  # (trainer/validation.py); the eval split stays the Evaluator's.
  train_input, holdout_input = validation.holdout_inputs(
      input_pipeline.input_config(config, dataset, train_files, train_batch, is_training=True),
      config.eval_batch_size, config.max_eval_examples, config.holdout_buckets)
  # Evaluation reads global batches that Keras splits over the replicas itself: Keras only
  # evaluates a distributed dataset for a fixed number of steps, and eval_steps may be None
  # (the whole split). Under multi-worker each worker evaluates the whole split (the metrics
  # are the same, the work is repeated) rather than risk workers running out at different steps.
  eval_input = input_pipeline.eval_input_config(config, dataset, eval_files, eval_steps)
  strategy = distribution.strategy

  # Training data comes from a function so each input pipeline gets its InputContext and
  # reads only its own shards; batches there are per replica.
  train_dataset = strategy.distribute_datasets_from_function(
      lambda context: input_pipeline.make_dataset(train_input, decode, context))
  eval_dataset = input_pipeline.make_dataset(eval_input, decode)
  # Variables must be created under the scope to be mirrored or placed on the TPU.
  # Every head starts from the label's prior (a regression's around its mean and spread), read
  # from the data first.
  try:
    moments = (sizing.label_moments(train_input, decode,
                                    dataset.num_outputs if dataset.num_outputs > 1 else 0)
               if dataset.task_kind.uses_label_moments else None)
  except tf.errors.DataLossError:
    # The first full read of the training files: name the file that broke it.
    input_pipeline.check_shards(input_pipeline.list_files(train_input.file_patterns),
                                whole_files=True)
    raise
  with strategy.scope():
    model = model_lib.build(dataset, config.model, moments)

  # Only the chief's logs are kept; other workers write theirs to a temporary directory (the
  # Keras multi-worker pattern), so no two workers write the same event files.
  run_dir = log_dir if distribution.is_chief else tempfile.mkdtemp(prefix='worker-logs-')
  callbacks = [
      tf.keras.callbacks.TensorBoard(
          log_dir=run_dir,
          profile_batch=((config.profile_start_step + 1,
                          config.profile_start_step + config.profile_steps)
                         if config.profile_steps else 0)),
  ]
  if config.monitor_calibration_steps:
    # One batch of the real input, held in memory: the monitor's compute-only reference.
    # Streamed: one batch needs neither the cache nor the columns in memory.
    one_batch_input = dataclasses.replace(train_input, cache=False, in_memory=False)
    calibration_data = strategy.distribute_datasets_from_function(
        lambda context: input_pipeline.make_dataset(one_batch_input, decode,
                                                    context).take(1).cache().repeat())
    callbacks.append(input_monitor.InputMonitor(
        calibration_data, os.path.join(run_dir, 'input'),
        threshold=config.input_bound_threshold,
        calibration_steps=config.monitor_calibration_steps,
        # The training input itself, timed alone at each epoch's end: whether it keeps ahead.
        input_data=train_dataset))

  # Loss and metrics every ~1% of the run, and the eval split a few times spread over it: the
  # run report's curves per step (trainer/step_metrics.py).
  every = max(1, train_steps // step_metrics.POINTS_PER_RUN)
  callbacks.append(step_metrics.StepMetrics(os.path.join(run_dir, 'train'), every=every))
  # Checks on the validation slice at each epoch's end; the eval split every few epochs.
  epochs, eval_every = validation.schedule(train_steps, step_metrics.evaluations(train_steps))
  holdout = (validation.BestOnHoldout(input_pipeline.make_dataset(holdout_input, decode),
                                      config.patience) if holdout_input else None)
  if holdout:
    callbacks.insert(0, holdout)
  try:
    model.fit(
        train_dataset,
        epochs=epochs,
        steps_per_epoch=train_steps // epochs,
        validation_data=eval_dataset,
        validation_steps=eval_steps,
        validation_freq=eval_every,
        callbacks=callbacks,
        verbose=2)
  except tf.errors.DataLossError:
    # tf.data does not say which file broke: read the shards in full to name it.
    input_pipeline.check_shards(
        input_pipeline.list_files(train_input.file_patterns) +
        input_pipeline.list_files(eval_input.file_patterns), whole_files=True)
    raise
  finally:
    if run_dir != log_dir:
      shutil.rmtree(run_dir, ignore_errors=True)
  # BatchNorm's statistics at the weights kept, kept only if the slice's loss is no worse.
  # The slice's loss of the weights kept is the callback's best check: not measured again.
  if holdout and holdout.examples:
    batch_norm.recalibrate(model, strategy, train_dataset, config.batch_norm_steps,
                           holdout.data_loss, loss_before=holdout.losses[holdout.best])
  else:
    batch_norm.recalibrate(model, strategy, train_dataset, config.batch_norm_steps)
  if dataset.task_kind.samples_predictions and distribution.is_chief:
    # The report's predicted-vs-actual and residual plots (trainer/prediction_sample.py).
    prediction_sample.write(model, eval_input, decode, log_dir)
  return model


def save_model(distribution: strategy_lib.Distribution, model: tf.keras.Model,
               serving_model_dir: str, serving_signatures=None) -> None:
  """Saves `model` to serving_model_dir from the chief.

  Every worker must save (saving a distributed model runs collective ops), but only the
  chief's copy is kept: the others write to a temporary directory and delete it.
  """
  path = serving_model_dir if distribution.is_chief else tempfile.mkdtemp(prefix='worker-model-')
  # Without the optimizer's state (Adam's two slots per weight: twice the weights' bytes), which
  # nothing reads back: no run resumes or warm-starts from a saved model.
  model.save(path, save_format='tf', signatures=serving_signatures, include_optimizer=False)
  if not distribution.is_chief:
    shutil.rmtree(path, ignore_errors=True)
  logging.info('Saved the model to %s (chief=%s)', path, distribution.is_chief)
