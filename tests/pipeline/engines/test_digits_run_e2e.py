"""`make run DATASET=digits` (the issue's bar): blessed at an eval accuracy of at least 0.95,
with the accuracy of every class (TFMA slices) and the confusion matrix in last_run.json and the
report, the Trainer's grid of eval images agreeing with the Evaluator's confusion matrix, and
the image statistics (formats, byte sizes) in the report's data section."""

import base64
import dataclasses
import re

import pytest

import tensorflow as tf

import datadefs
from datadefs.images import checks
from datadefs.images import files as image_files
from datadefs.images import init as image_init
from datadefs.images import spec
from serving import model as served
from tests.conftest import read_last_run, run_cli
from trainer.images import prediction_grid

pytestmark = pytest.mark.e2e

_BAR = 0.95  # the accuracy bar for the digits


def test_digits_are_blessed_with_accuracy_per_class_and_a_grid_of_eval_images(tmp_path):
  home = tmp_path / 'home'
  run = run_cli(['run'], home, extra_env={'DATASET': 'digits'})
  summary = read_last_run(home)
  assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
  assert summary['status'] == 'succeeded' and summary['blessed'] is True, summary
  accuracy = summary['metrics']['sparse_categorical_accuracy']
  assert accuracy >= _BAR

  # The bundled [baseline] is what `dataset init` measures on the files the run generated, and
  # the run judged the model against it.
  dataset = datadefs.load('digits')
  listing = image_files.list_images(str(home / 'generated_data' / 'digits'))
  good = [(image, verified) for image, verified, _ in checks.verify_all(listing) if verified]
  measured = image_init.naive_baseline(good, dataset.label.classes)
  assert measured == dataclasses.replace(dataset.baseline, naive=measured.naive)
  assert measured.naive == pytest.approx(dataset.baseline.naive, abs=1e-6)
  assert dataset.baseline.eval_rows == summary['metrics']['example_count']
  assert summary['baseline']['naive'] == dataset.baseline.naive < accuracy

  classes = list(dataset.label.classes)
  per_class = summary['per_class_accuracy']
  assert per_class['classes'] == classes
  examples = summary['metrics']['example_count']
  assert sum(per_class['examples']) == examples
  # The classes' accuracies, weighted by their examples, are the whole split's.
  assert sum(a * n for a, n in zip(per_class['accuracy'], per_class['examples'])) / examples == (
      pytest.approx(accuracy, abs=1e-6))
  assert 'accuracy per class (eval examples), least accurate first:' in run.stdout

  confusion = summary['confusion_matrix']
  assert confusion['classes'] == classes
  wrong = examples - sum(confusion['matrix'][i][i] for i in range(len(classes)))

  report = (home / 'report.html').read_text()
  evaluation = report[report.index('<section id="evaluation">'):]
  for name in classes:
    assert f'label={name}' in evaluation  # the per-slice (per-class) table
  assert 'confusion matrix (the top class)' in evaluation
  # The Trainer's sample: every eval image predicted by the model the Evaluator evaluated, so
  # its misclassified images are the confusion matrix's (up to the grid's size).
  figures = re.findall(r'<figure class="(wrong|right)"><img src="data:image/png;base64,',
                       evaluation)
  assert len(figures) == min(int(examples), prediction_grid.SHOWN)
  assert figures.count('wrong') == min(int(wrong), prediction_grid.SHOWN)
  assert f'{int(wrong):,} of the {int(examples):,} predicted were misclassified' in evaluation

  data = report[report.index('<section id="data">'):report.index('<section id="validation">')]
  assert re.search(r'formats (jpeg|png) [\d,]+, (jpeg|png) [\d,]+', data)
  # The pushed model, as the serving image runs it: the eval split's JPEG files sent as raw
  # bytes ({"b64": ...}) are classified at the bar too.
  images, labels = [], []
  for record in tf.data.TFRecordDataset(
      [str(p) for p in home.glob('pipeline_root/ImageExampleGen/examples/*/Split-eval/*')],
      'GZIP'):
    feature = tf.train.Example.FromString(record.numpy()).features.feature
    if feature[spec.RAW_FORMAT].bytes_list.value[0] == b'jpeg':
      images.append(feature[spec.RAW_IMAGE].bytes_list.value[0])
      labels.append(feature[spec.RAW_LABEL].bytes_list.value[0].decode())
  model = served.load(summary['pushed_model'])
  answers = model.predict([{'b64': base64.b64encode(image).decode()} for image in images])
  assert len(images) > 100
  assert sum(a['classes'] == label for a, label in zip(answers, labels)) / len(images) >= _BAR
