"""This run's model beside its dataset's baselines (the definition's [baseline] table:
datadefs/baseline_scores.py), in last_run.json, on the console and in the report:

    "baseline": {"metric": "binary_accuracy", "model": 0.88, "naive": 0.77, "gbm": 0.89}

`model` is this run's eval value of the task's blessing metric; a value not known is null. When
the run was not blessed because its model is worse than the naive baseline (the Evaluator's bound
is at least as strict as the naive score: pipeline/graph.py eval_config), `not_blessed_reason`
says so in one line.
"""

from typing import Any, Dict, List, Mapping, Optional

from datadefs.definition import Dataset

KEY = 'baseline'
NOT_FIT = 'not fit'  # a baseline measured without a GBM
REASON_KEY = 'not_blessed_reason'


def scores(metrics: Mapping[str, float], dataset: Dataset) -> Dict[str, Any]:
  """{"metric", "model", "naive", "gbm"} of a run of `dataset` with eval `metrics`."""
  task, measured = dataset.task_kind, dataset.baseline
  model = metrics.get(task.blessing_metric)
  return {'metric': task.blessing_metric,
          'model': None if model is None else float(model),
          'naive': measured.naive if measured else None,
          'gbm': measured.gbm if measured else None}


def not_blessed_reason(found: Mapping[str, Any], blessed: Optional[bool],
                       dataset: Dataset) -> Optional[str]:
  """Why the run was not blessed, in one line, when its model is worse than the naive baseline
  (or misses the definition's threshold); None otherwise."""
  model, naive = found.get('model'), found.get('naive')
  if blessed is not False or model is None:
    return None
  task = dataset.task_kind

  def worse(value: float, bound: float) -> bool:
    return value < bound if task.higher_is_better else value > bound

  if naive is not None and worse(model, naive):
    return (f'not blessed: {found["metric"]} {model:.4g} is worse than the naive baseline\'s '
            f'{naive:.4g} (the definition\'s [baseline]); a model worse than the naive baseline '
            'is never blessed')
  if worse(model, dataset.blessing_threshold):
    return (f'not blessed: {found["metric"]} {model:.4g} misses the definition\'s '
            f'blessing_threshold {dataset.blessing_threshold:.4g}')
  return None


def record(details: Dict[str, Any], metrics: Mapping[str, float], blessed: Optional[bool],
           dataset: Dataset) -> None:
  """Sets last_run.json's `baseline`, and `not_blessed_reason` when there is one."""
  found = scores(metrics, dataset)
  details[KEY] = found
  reason = not_blessed_reason(found, blessed, dataset)
  if reason:
    details[REASON_KEY] = reason


def line(found: Optional[Mapping[str, Any]]) -> Optional[str]:
  """The console's line: this model, the naive baseline and the default GBM side by side."""
  if not found:
    return None
  (_, model), (_, naive), (_, gbm) = rows(found)
  return (f'{found["metric"]}: this model {_text(model)}, naive baseline {_text(naive)}, '
          f'default gradient-boosted model {_text(gbm)}')


def rows(found: Optional[Mapping[str, Any]]) -> List[List[Any]]:
  """The report's rows: (what, value) for this model, the naive baseline and the default GBM;
  a value is a number, None (unknown) or NOT_FIT."""
  if not found:
    return []
  # A measured baseline without a GBM: none was fit (an image dataset's, datadefs/images/init.py).
  gbm = (NOT_FIT if found.get('gbm') is None and found.get('naive') is not None
         else found.get('gbm'))
  return [['this model', found.get('model')], ['naive baseline', found.get('naive')],
          ['default gradient-boosted model (scikit-learn)', gbm]]


def _text(value) -> str:
  return 'unknown' if value is None else value if value == NOT_FIT else f'{value:.4f}'
