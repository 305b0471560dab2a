"""Reads the task figures' data in an Evaluator's output (confusion matrices, the ROC curve)
and the Trainer's prediction sample, with protobufs alone, as readers.py reads the rest."""

import json
from pathlib import Path
from typing import Any, Dict, Iterator, List, NamedTuple, Optional

from runs.report.readers import ReportDataError, records, slice_text, tfma_proto


class ConfusionMatrix(NamedTuple):
  """Counts of examples by actual class (rows) and predicted class (columns), classes by id."""
  matrix: List[List[float]]
  threshold: Optional[float]  # the binary decision threshold; None: the top class


class RocPoint(NamedTuple):
  threshold: float
  false_positive_rate: float
  true_positive_rate: float


def _overall_candidate(for_slice, model_name: str) -> bool:
  return slice_text(for_slice.slice_key) == 'Overall' and model_name != 'baseline'


def confusion_matrix(uri: str) -> Optional[ConfusionMatrix]:
  """The candidate's confusion matrix over the whole eval split, overall: TFMA's
  ConfusionMatrixAtThresholds (binary, one threshold) or MultiClassConfusionMatrixPlot (the
  top class); None when the evaluation has neither."""
  for for_slice in _records_of(uri, 'metrics*', 'MetricsForSlice'):
    for item in for_slice.metric_keys_and_values:
      if not _overall_candidate(for_slice, item.key.model_name) or item.key.is_diff:
        continue
      if item.value.HasField('confusion_matrix_at_thresholds'):
        cell = item.value.confusion_matrix_at_thresholds.matrices[0]
        return ConfusionMatrix([[cell.true_negatives, cell.false_positives],
                                [cell.false_negatives, cell.true_positives]], cell.threshold)
  for for_slice in _records_of(uri, 'plots*', 'PlotsForSlice'):
    for item in for_slice.plot_keys_and_values:
      if (_overall_candidate(for_slice, item.key.model_name) and
          item.value.HasField('multi_class_confusion_matrix_at_thresholds')):
        [matrix] = item.value.multi_class_confusion_matrix_at_thresholds.matrices[:1]
        # Class ids from 0; -1 is "no prediction" (none above a threshold: none with [0.0]).
        size = 1 + max([max(e.actual_class_id, e.predicted_class_id) for e in matrix.entries],
                       default=-1)
        counts = [[0.0] * size for _ in range(size)]
        for entry in matrix.entries:
          if entry.predicted_class_id >= 0 and entry.actual_class_id >= 0:
            counts[entry.actual_class_id][entry.predicted_class_id] += entry.num_weighted_examples
        return ConfusionMatrix(counts, None)
  return None


def roc_curve(uri: str) -> List[RocPoint]:
  """The candidate's ROC curve over the whole eval split, overall, from TFMA's
  ConfusionMatrixPlot (a binary model's confusion matrices at 1,000 thresholds)."""
  for for_slice in _records_of(uri, 'plots*', 'PlotsForSlice'):
    for item in for_slice.plot_keys_and_values:
      if (_overall_candidate(for_slice, item.key.model_name) and
          item.value.HasField('confusion_matrix_at_thresholds')):
        return [RocPoint(m.threshold, m.false_positive_rate, m.recall)
                for m in item.value.confusion_matrix_at_thresholds.matrices]
  return []


def _records_of(uri: str, pattern: str, message: str) -> Iterator[Any]:
  root = Path(uri)
  if not uri or not root.is_dir():
    return
  proto = getattr(tfma_proto(), message)
  for path in sorted(root.glob(pattern)):
    for payload in records(path):
      yield proto.FromString(payload)


PREDICTION_SAMPLE_FILE = 'eval_predictions.json'  # trainer/prediction_sample.py


def prediction_sample(model_run_uri: str) -> Optional[Dict[str, Any]]:
  """The Trainer's sample of the eval split's labels and predictions ({"labels",
  "predictions", "scope"}; an image classifier's: {"kind": "images", "images", "classes",
  ...}); None when it wrote none (a task without one, an older run)."""
  path = Path(model_run_uri) / PREDICTION_SAMPLE_FILE
  if not model_run_uri or not path.exists():
    return None
  try:
    sample = json.loads(path.read_text())
  except ValueError as error:
    raise ReportDataError(f'{path}: not JSON: {error}') from None
  if not isinstance(sample, dict) or len(sample.get('labels', [])) != len(
      sample.get('predictions', [])):
    raise ReportDataError(f'{path}: not a sample of labels and predictions')
  if sample.get('kind') == IMAGE_SAMPLE and not isinstance(sample.get('images'), list):
    raise ReportDataError(f'{path}: an image sample without a list of images')
  return sample


IMAGE_SAMPLE = 'images'  # an image classifier's sample (trainer/images/prediction_grid.py KIND)
