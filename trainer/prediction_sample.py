"""A bounded sample of the eval split's labels and the trained model's predictions, written by
the Trainer beside its logs (`<model_run>/eval_predictions.json`) for a task that asks for one
(datadefs/tasks.py `samples_predictions`): a regression's values, for the run report's
predicted-vs-actual and residual plots; an image classifier's eval images with their true and
predicted classes, for the report's grid (trainer/images/prediction_grid.py). A classifier of
a table writes none: its confusion matrix, from the Evaluator, says more.

The sample is the first SAMPLE_SIZE examples of the eval split in file order (the Trainer's
fixed evaluation order), predicted by the model the Trainer saves. The Evaluator's metrics
(RMSE, MAE) cover the whole split; only the plots are drawn from this sample, and they say so.
Writing it takes one prediction pass over at most SAMPLE_SIZE examples, where the model and its
input are already in memory.
"""

import dataclasses
import json
import os
from typing import Optional

import numpy as np
import tensorflow as tf

from trainer import input_pipeline
from trainer import kinds
from trainer.images import prediction_grid
from trainer.images.decoder import ImageDecoder

SAMPLE_SIZE = 2000
FILE = 'eval_predictions.json'  # runs/report/eval_readers.py PREDICTION_SAMPLE_FILE


def write(model: tf.keras.Model, eval_input: input_pipeline.InputConfig,
          decode: kinds.Decoder, log_dir: str) -> Optional[str]:
  """Predicts the first SAMPLE_SIZE eval examples; writes labels and predictions to
  `log_dir`/FILE and returns its path (an image classifier: its grid's sample; a classifier of
  a table: nothing, None)."""
  path = os.path.join(log_dir, FILE)
  if isinstance(decode, ImageDecoder):
    return prediction_grid.write(model, eval_input, decode, decode.class_names, path)
  if model.outputs and model.outputs[0].shape[-1] != 1:
    return None  # one probability per class: a table's classifier
  sample_input = dataclasses.replace(eval_input, max_examples=SAMPLE_SIZE)
  labels, predictions = [], []
  for features, label in input_pipeline.make_dataset(sample_input, decode):
    labels.append(np.reshape(label.numpy(), [-1]))
    predictions.append(np.reshape(model.predict_on_batch(features), [-1]))
  labels = np.concatenate(labels or [np.zeros(0)])
  predictions = np.concatenate(predictions or [np.zeros(0)])
  scope = (f'all {len(labels):,} examples of the eval split' if len(labels) < SAMPLE_SIZE else
           f'the first {SAMPLE_SIZE:,} examples of the eval split (file order)')
  with tf.io.gfile.GFile(path, 'w') as f:
    f.write(json.dumps({
        'labels': [round(float(v), 6) for v in labels],
        'predictions': [round(float(v), 6) for v in predictions],
        'scope': f'{scope}, predicted by the trained model'}))
  return path
