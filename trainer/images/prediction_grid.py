"""The image kind's prediction sample (trainer/prediction_sample.py dispatches here): eval
images with their true and predicted classes for the run report's grid (runs/report/
image_grid.py), misclassified ones first.

The Trainer predicts the first SCANNED eval examples in file order (its fixed evaluation order)
with the model it saves, and keeps at most SHOWN of them: every misclassified one first, then
correct ones, each as a PNG thumbnail of the pixels the model saw (decoded and resized by the
input pipeline, at most THUMBNAIL px a side), so the page stays small whatever the files'
size. The Evaluator's per-class accuracy and confusion matrix cover the whole split.
"""

import base64
import dataclasses
import json
import os
from typing import Dict, List, Sequence

import numpy as np
import tensorflow as tf

from datadefs.images.spec import IMAGE_FEATURE
from trainer import input_pipeline

SCANNED = 1000  # eval examples predicted, at most
SHOWN = 48  # images kept for the grid, at most
THUMBNAIL = 96  # px, the longest side of a kept image
KIND = 'images'  # the sample's `kind` (runs/report/eval_readers.py)


def thumbnail_png(pixels: np.ndarray) -> str:
  """uint8 [H, W, C] pixels -> a base64 PNG at most THUMBNAIL px a side."""
  image = tf.convert_to_tensor(pixels)
  height, width = int(image.shape[0]), int(image.shape[1])
  if max(height, width) > THUMBNAIL:
    image = tf.cast(tf.round(tf.clip_by_value(tf.image.resize(
        image, [THUMBNAIL, THUMBNAIL], preserve_aspect_ratio=True, antialias=True), 0, 255)),
                    tf.uint8)
  return base64.b64encode(tf.io.encode_png(image).numpy()).decode('ascii')


def choose(labels: Sequence[int], predicted: Sequence[int], shown: int = SHOWN) -> List[int]:
  """Indices of the examples to show: the misclassified first, then the correct, each in file
  order, at most `shown`."""
  wrong = [i for i, (label, guess) in enumerate(zip(labels, predicted)) if label != guess]
  right = [i for i, (label, guess) in enumerate(zip(labels, predicted)) if label == guess]
  return (wrong + right)[:shown]


def write(model: tf.keras.Model, eval_input: input_pipeline.InputConfig, decode,
          class_names: Sequence[str], path: str) -> str:
  """Predicts the first SCANNED eval examples; writes the chosen images, their classes and the
  counts to `path` (JSON) and returns it."""
  sample_input = dataclasses.replace(eval_input, max_examples=SCANNED)
  labels: List[int] = []
  predicted: List[int] = []
  confidence: List[float] = []
  kept: Dict[int, str] = {}  # index -> thumbnail, while scanning: no more than 2 x SHOWN
  correct_kept = 0
  for features, label in input_pipeline.make_dataset(sample_input, decode):
    probabilities = np.asarray(model.predict_on_batch(features))
    batch_labels = np.reshape(label.numpy(), [-1]).astype(int)
    batch_guesses = np.argmax(probabilities, axis=1)
    pixels = features[IMAGE_FEATURE].numpy()
    for row, (truth, guess) in enumerate(zip(batch_labels, batch_guesses)):
      index = len(labels)
      labels.append(int(truth))
      predicted.append(int(guess))
      confidence.append(float(probabilities[row, guess]))
      wrong = truth != guess
      if (wrong and len(kept) - correct_kept < SHOWN) or (not wrong and correct_kept < SHOWN):
        kept[index] = thumbnail_png(pixels[row])
        correct_kept += not wrong
  chosen = choose(labels, predicted)
  misclassified = sum(label != guess for label, guess in zip(labels, predicted))
  scope = (f'all {len(labels):,} examples of the eval split' if len(labels) < SCANNED else
           f'the first {SCANNED:,} examples of the eval split (file order)')
  with tf.io.gfile.GFile(path, 'w') as f:
    f.write(json.dumps({
        'kind': KIND,
        'classes': [str(name) for name in class_names],
        'scanned': len(labels),
        'misclassified': int(misclassified),
        'images': [{'png': kept[i], 'label': labels[i], 'predicted': predicted[i],
                    'confidence': round(confidence[i], 4)} for i in chosen],
        'scope': f'{scope}, predicted by the trained model'}))
  return path
