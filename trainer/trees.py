"""`gradient_boosted_trees`: a TensorFlow Decision Forests GradientBoostedTreesModel on the same
transformed features as the network, from the same input_fn (trainer/input_pipeline.py), saved
with the same serving signatures (trainer/signatures.py), so the Evaluator and the Pusher take it
as they take the network. TFX's own tfx/examples/penguin/penguin_utils_tfdf_experimental.py is
the pattern.

How trees train differs from the network:
- one pass over the training split, in order, no shuffling and no repeat (TF-DF reads the whole
  split into memory in that pass, then grows the trees);
- on one machine's CPU: TF-DF's GradientBoostedTreesModel does not run under a tf.distribute
  strategy (mirrored GPUs, TPU, several workers). `check_single_worker` refuses those with a
  message saying so; TRAIN_STEPS does not apply (trees train up to num_trees rounds);
- early stopping on a slice of the training split TF-DF holds out itself (10%, its default),
  so the eval split stays untouched until the eval metrics are computed.

Feature semantics: ids of a vocabulary or an integer_id column are CATEGORICAL (TF-DF shifts
integer categories by one itself: its 0 is the out-of-dictionary item); every other transformed
feature (z-scored numbers, quantile buckets, date parts) is NUMERICAL: trees split on its order.
"""

import dataclasses
import os
from typing import Dict, Optional, Sequence

from absl import logging
import tensorflow as tf
import tensorflow_decision_forests as tfdf

from datadefs.definition import Dataset
from datadefs.tasks import Moments
from trainer import input_pipeline
from trainer import kinds
from trainer import prediction_sample
from trainer import strategy as strategy_lib
from trainer.config import ModelConfig, TrainConfig

NAME = 'gradient_boosted_trees'
# Roles whose transformed ids are categories without an order.
CATEGORICAL_ROLES = ('vocabulary', 'integer_id')
# Batches TF-DF reads the training split in: any size gives the same trees; larger is faster.
READ_BATCH = 1024


def feature_semantics(dataset: Dataset) -> Dict[str, 'tfdf.keras.FeatureSemantic']:
  """{transformed feature: its TF-DF semantic} of every model input."""
  semantics = {}
  for column in dataset.features():
    semantic = (tfdf.keras.FeatureSemantic.CATEGORICAL if column.role in CATEGORICAL_ROLES
                else tfdf.keras.FeatureSemantic.NUMERICAL)
    semantics.update({name: semantic for name in column.model_inputs()})
  return semantics


def build(dataset: Dataset, config: ModelConfig = ModelConfig(),
          label_moments: Optional[Moments] = None) -> tf.keras.Model:
  """An untrained GradientBoostedTreesModel over the dataset's transformed features, compiled
  with its task's Keras metric (what the Tuner ranks by). `label_moments` is unused: trees
  need no scaling of the label."""
  del label_moments
  task = dataset.task_kind
  model = tfdf.keras.GradientBoostedTreesModel(
      task=getattr(tfdf.keras.Task, task.forest_task),
      features=[tfdf.keras.FeatureUsage(name, semantic=semantic)
                for name, semantic in feature_semantics(dataset).items()],
      exclude_non_specified_features=True,
      num_trees=config.num_trees,
      max_depth=config.max_depth,
      shrinkage=config.shrinkage,
      min_examples=config.min_examples,
      verbose=0)
  model.compile(metrics=task.head(dataset.num_outputs).metrics())
  return model


def check_single_worker(config: TrainConfig, cluster: strategy_lib.Cluster) -> None:
  """Raises ValueError when the run asks for more than one machine's CPU: TF-DF's trees train
  on one worker, without a tf.distribute strategy."""
  wants = ''
  if config.strategy in ('mirrored', 'tpu', 'multi_worker'):
    wants = f'strategy {config.strategy!r}'
  elif cluster.num_workers > 1:
    wants = f'{cluster.num_workers} workers (TF_CONFIG)'
  if wants:
    raise ValueError(
        f'model {NAME!r} trains on one worker\'s CPU (TensorFlow Decision Forests does not '
        f'train under a tf.distribute strategy), but the run asks for {wants}: use a CPU '
        "profile with one worker (vertex-cpu), or model 'mlp' for GPUs, TPUs and several "
        'workers')


def single_worker(cluster: strategy_lib.Cluster) -> strategy_lib.Distribution:
  """The default strategy: what trees train and save under."""
  return strategy_lib.Distribution(tf.distribute.get_strategy(), 'default', cluster)


def fit(model: tf.keras.Model, config: TrainConfig, dataset: Dataset, *,
        train_files: Sequence[str], decode: kinds.Decoder) -> None:
  """Grows the trees: one ordered pass over the training split (the input_fn's evaluation
  mode: read once, in order)."""
  train_input = dataclasses.replace(
      input_pipeline.input_config(config, dataset, train_files, READ_BATCH, is_training=False),
      cache=False)
  model.fit(input_pipeline.make_dataset(train_input, decode), verbose=0)
  grown = model.make_inspector().num_trees()
  logging.info('Grew %d of at most %d trees (early stopping on the held-out slice of the '
               'training split)', grown, config.model.num_trees)


def evaluate(model: tf.keras.Model, config: TrainConfig, dataset: Dataset, *,
             eval_files: Sequence[str], decode: kinds.Decoder,
             eval_steps: Optional[int]) -> Dict[str, float]:
  """{'val_<metric>': value} of the trained trees on (the first max_eval_examples of) the eval
  split: the Tuner's ranking and the Trainer's log; the Evaluator scores the whole split."""
  eval_input = input_pipeline.eval_input_config(config, dataset, eval_files, eval_steps)
  metrics = model.evaluate(input_pipeline.make_dataset(eval_input, decode), steps=eval_steps,
                           return_dict=True, verbose=0)
  return {f'val_{name}': float(value) for name, value in metrics.items()}


def train(config: TrainConfig, dataset: Dataset, *, train_files: Sequence[str],
          eval_files: Sequence[str], decode: kinds.Decoder, eval_steps: Optional[int],
          log_dir: str) -> tf.keras.Model:
  """Builds, grows and evaluates the trees; writes the eval metrics to `log_dir` as
  TensorBoard scalars (step 0) and, for a task that asks for one, the prediction sample."""
  model = build(dataset, config.model)
  fit(model, config, dataset, train_files=train_files, decode=decode)
  metrics = evaluate(model, config, dataset, eval_files=eval_files, decode=decode,
                     eval_steps=eval_steps)
  logging.info('Trees on the eval split: %s', metrics)
  writer = tf.summary.create_file_writer(os.path.join(log_dir, 'validation'))
  with writer.as_default():
    for name, value in metrics.items():
      tf.summary.scalar(name, value, step=0)
  writer.close()
  if dataset.task_kind.samples_predictions:
    eval_input = input_pipeline.eval_input_config(config, dataset, eval_files, eval_steps)
    prediction_sample.write(model, eval_input, decode, log_dir)
  return model
