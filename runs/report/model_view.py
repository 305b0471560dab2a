"""The run, training and evaluation sections as plain values: what ran (from the summary, or
from the store for a rebuilt report), the Trainer's TensorBoard scalars and the input monitor's
verdict, and the Evaluator's metrics against the eval config's thresholds."""

import dataclasses
import json
import re
from typing import Any, Dict, List, Optional, Tuple

from datadefs import tasks
from runs.report import readers
from runs.report.record import RunRecord, Step
from trainer import input_verdict

_WAIT_SHARE_TAG = 'input/wait_share'  # trainer/input_monitor.py
_VERDICT_TAG = 'input/verdict'
_EVAL_GROUPS = ('validation', 'eval')  # Keras' TensorBoard callback writes eval to validation/


def timeline(summary: dict, record: Optional[RunRecord]) -> List[Step]:
  """Each component: ran, cached or failed, and its seconds. The summary's own timing (what the
  console printed) when it has components, else the store's execution times."""
  components = summary.get('components') or []
  if summary.get('nothing_new'):
    return []  # nothing ran; the figures come from an earlier run, which the page names
  if not components:
    return list(record.steps) if record else []
  steps = [Step(c['name'], c.get('status') or ('cached' if c.get('cached') else 'ran'),
                c.get('seconds'), c.get('error'), resolver='resolver' in c['name'],
                state=c.get('state'))
           for c in components]
  error = summary.get('error') or ''
  if summary.get('status') == 'failed' and steps and error.startswith(steps[-1].name):
    steps[-1].status = 'failed'
  return steps


@dataclasses.dataclass
class Series:
  label: str  # 'train' or 'eval'
  points: List[Tuple[int, float]]


@dataclasses.dataclass
class TrainingView:
  axis: str  # 'epoch' or 'step'
  metrics: Dict[str, List[Series]]  # metric name -> train/eval series
  wait_shares: List[Tuple[int, float]]  # (epoch, share of step time waiting for data)
  step_ms: Optional[float]
  compute_ms: Optional[float]
  threshold: float
  verdict: str
  input_bound_epochs: List[int] = dataclasses.field(default_factory=list)
  train_steps: Optional[int] = None  # the Trainer's train_args.num_steps
  eval_scope: str = ''  # which examples of the eval split the eval curve is over


def training(scalars: Dict[str, Dict[str, List[readers.Scalar]]],
             trainer_parameters: Dict[str, Any]) -> Optional[TrainingView]:
  """Loss and metrics per epoch (per step when Keras logged batches) for train and eval."""
  if not scalars:
    return None
  train, evaluated = scalars.get('train', {}), {}
  for group in _EVAL_GROUPS:
    evaluated.update(scalars.get(group, {}))
  if any(tag.startswith('batch_') for tag in train):
    # Keras logged every few batches: train per step, eval at the steps it ran.
    axis, train_prefix, eval_tag = 'step', 'batch_', 'evaluation_{}_vs_iterations'
    offset = 0
  else:
    # Once per epoch (Keras' default); epochs count from 0 in the files, from 1 on the console.
    axis, train_prefix, eval_tag = 'epoch', 'epoch_', 'epoch_{}'
    offset = 1
  metrics: Dict[str, List[Series]] = {}
  for tag, series in sorted(train.items()):
    if tag.startswith(train_prefix):
      name = tag[len(train_prefix):]
      metrics[name] = [Series('train', [(s.step + offset, s.value) for s in series])]
      if evaluated.get(eval_tag.format(name)):
        metrics[name].append(Series('eval', [(s.step + offset, s.value)
                                             for s in evaluated[eval_tag.format(name)]]))
  monitor = scalars.get('input', {})
  shares = [(s.step + 1, s.value) for s in monitor.get(_WAIT_SHARE_TAG, [])]
  config = _train_config(trainer_parameters)
  threshold = config.input_bound_threshold

  def last_ms(tag: str) -> Optional[float]:
    return monitor[tag][-1].value * 1e3 if monitor.get(tag) else None

  verdicts = {s.step + 1: s.value for s in monitor.get(_VERDICT_TAG, [])}
  if not shares:
    verdict = 'not measured (no input/* scalars: the input monitor was off or saw no steps)'
    input_bound = []
  else:
    last = _input_report(monitor, threshold)
    verdict = last.explain() if last else 'not measured (the input monitor\'s figures are incomplete)'
    input_bound = [epoch for epoch, code in verdicts.items()
                   if code == input_verdict.VERDICT_CODES[input_verdict.INPUT_BOUND]]
  return TrainingView(axis, metrics, shares, last_ms('input/step_seconds'),
                      last_ms('input/compute_seconds'), threshold, verdict, input_bound,
                      _num_steps(trainer_parameters, 'train_args'),
                      _eval_scope(config, _num_steps(trainer_parameters, 'eval_args')))


def _input_report(monitor: Dict[str, List[readers.Scalar]],
                  threshold: float) -> Optional[input_verdict.InputReport]:
  """The last epoch's figures as the monitor measured them (the verdict's inputs); None when
  one is missing. A run from before the input was timed alone has no input/input_seconds."""
  def last(tag: str) -> Optional[readers.Scalar]:
    return monitor[tag][-1] if monitor.get(tag) else None

  step, compute = last('input/step_seconds'), last('input/compute_seconds')
  if step is None or compute is None:
    return None
  alone = last('input/input_seconds')
  return input_verdict.InputReport(
      epoch=step.step, steps=0, step_seconds=step.value, compute_seconds=compute.value,
      input_seconds=alone.value if alone and alone.step == step.step else None,
      threshold=threshold)


def _num_steps(trainer_parameters: Dict[str, Any], args: str) -> Optional[int]:
  """The Trainer's train_args or eval_args num_steps, when set."""
  try:
    return int(json.loads(trainer_parameters.get(args) or '{}')['num_steps']) or None
  except (json.JSONDecodeError, KeyError, TypeError, ValueError):
    return None


def _train_config(trainer_parameters: Dict[str, Any]):
  """The run's TrainConfig (the defaults when the parameters do not hold a valid one)."""
  from trainer.config import TrainConfig  # pylint: disable=import-outside-toplevel
  try:
    return TrainConfig.from_custom_config(
        json.loads(trainer_parameters.get('custom_config') or '{}'))
  except (json.JSONDecodeError, AttributeError, TypeError, ValueError):
    return TrainConfig()


def _eval_scope(config, eval_steps: Optional[int]) -> str:
  """Which examples the in-training evaluations read (trainer/input_pipeline.eval_input_config)."""
  if eval_steps:
    return (f'eval: {eval_steps} batch(es) of {config.eval_batch_size} examples of the eval '
            f'split (EvalArgs num_steps)')
  if config.max_eval_examples:
    return (f'eval: at most the first {config.max_eval_examples:,} examples of the eval split, '
            f'the same at every evaluation (train_config max_eval_examples); the Evaluator\'s '
            f'metrics cover the whole split')
  return 'eval: the whole eval split'


@dataclasses.dataclass
class MetricRow:
  name: str
  value: Optional[float]
  baseline: Optional[float]
  diff: Optional[float]
  threshold: str  # '>= 0.6; no worse than the baseline', or ''
  passed: Optional[bool]  # None: no threshold


@dataclasses.dataclass
class EvaluationView:
  rows: List[MetricRow]
  slices: Dict[str, Dict[str, float]]  # slice -> metric -> value (slices other than Overall)
  configured_slices: List[str]
  blessed: Optional[bool]
  pushed_model: Optional[str]
  notes: List[str]


def evaluation(summary: dict, metrics: List[readers.Metric], config: dict,
               blessed: Optional[bool], pushed_model: Optional[str]) -> EvaluationView:
  """Metric rows (candidate, baseline, diff, threshold, verdict) and per-slice metrics; falls
  back to the summary's metrics when the evaluation files are not there."""
  overall: Dict[Tuple[str, bool], Dict[str, float]] = {}
  slices: Dict[str, Dict[str, float]] = {}
  for metric in metrics:  # later entries win, as in run_report.read_eval_metrics
    model = 'baseline' if metric.model == 'baseline' else 'candidate'
    if metric.slice == 'Overall':
      overall.setdefault((model, metric.is_diff), {})[metric.name] = metric.value
    elif model == 'candidate' and not metric.is_diff:
      slices.setdefault(metric.slice, {})[metric.name] = metric.value
  summarized = {k: v for k, v in (summary.get('metrics') or {}).items()
                if not k.endswith('_diff')}
  candidate = overall.get(('candidate', False)) or summarized
  # Metrics derived from the Evaluator's (a regression's RMSE: datadefs/tasks.py).
  task = tasks.TASKS.get(summary.get('task'))
  candidate = {**(task.derived_metrics(candidate) if task else {}), **candidate}
  baseline = overall.get(('baseline', False), {})
  diffs = overall.get(('candidate', True)) or {
      k[:-len('_diff')]: v for k, v in (summary.get('metrics') or {}).items()
      if k.endswith('_diff')}
  found_thresholds = thresholds(config)
  rows = []
  for name in sorted(set(candidate) | set(found_thresholds)):
    value, diff = candidate.get(name), diffs.get(name)
    text, passed = _check(found_thresholds.get(name, {}), value, diff, bool(baseline or diffs))
    rows.append(MetricRow(name, value, baseline.get(name), diff, text, passed))
  configured = [', '.join(spec.get('featureKeys', [])) or 'Overall'
                for spec in config.get('slicingSpecs', [])]
  notes = []
  if summary.get('nothing_new'):
    notes.append('nothing new: no new data, and the settings and code are those of the last '
                 'successful run; nothing was re-run, re-evaluated or pushed')
  if summary.get('model_unchanged'):
    notes.append('model unchanged: not re-evaluated (every step up to the Trainer was reused; '
                 'the candidate is the blessed baseline itself, so nothing was pushed)')
  return EvaluationView(rows, slices, configured, blessed, pushed_model, notes)


def metric_name(config_metric: dict) -> str:
  """TFMA's default metric name for a MetricConfig: its name, else the class in snake_case."""
  if config_metric.get('config'):
    try:
      name = json.loads(config_metric['config']).get('name')
      if name:
        return name
    except json.JSONDecodeError:
      pass  # not JSON: fall back to the class name
  return re.sub(r'(?<=[a-z0-9])(?=[A-Z])', '_', config_metric.get('className', '')).lower()


def blessing_metric(uri: str) -> Tuple[Optional[str], Optional[float]]:
  """(name, overall value) of the metric the blessing threshold is on, in an Evaluator output
  (the metric with a value threshold in its eval config); (None, None) when there is none."""
  gated = [name for name, threshold in thresholds(readers.eval_config(uri)).items()
           if threshold.get('valueThreshold')]
  if not gated:
    return None, None
  value = next((m.value for m in readers.eval_metrics(uri) if m.name == gated[0] and
                m.slice == 'Overall' and not m.is_diff and m.model != 'baseline'), None)
  return gated[0], value


def thresholds(config: dict) -> Dict[str, dict]:
  """{metric name: its threshold on the whole eval split}: a MetricConfig's `threshold` (every
  slice's), or its per-slice threshold on the Overall slice (pipeline/graph.py eval_config,
  for a dataset evaluated per class)."""
  found = {}
  for spec in config.get('metricsSpecs', []):
    for metric in spec.get('metrics', []):
      if metric.get('threshold'):
        found[metric_name(metric)] = metric['threshold']
        continue
      for per_slice in metric.get('perSliceThresholds', []):
        if any(not slicing for slicing in per_slice.get('slicingSpecs', [])):
          found[metric_name(metric)] = per_slice.get('threshold', {})
  return found


def _check(threshold: dict, value: Optional[float], diff: Optional[float],
           has_baseline: bool) -> Tuple[str, Optional[bool]]:
  if not threshold:
    return '', None
  if value is None:
    return _threshold_text(threshold), None  # not evaluated (e.g. the model was unchanged)
  terms, passed = [], True
  bounds = threshold.get('valueThreshold', {})
  if 'lowerBound' in bounds:
    terms.append(f'>= {bounds["lowerBound"]:g}')
    passed &= value is not None and value >= bounds['lowerBound']
  if 'upperBound' in bounds:
    terms.append(f'<= {bounds["upperBound"]:g}')
    passed &= value is not None and value <= bounds['upperBound']
  change = threshold.get('changeThreshold', {})
  if change:
    higher = change.get('direction', 'HIGHER_IS_BETTER') == 'HIGHER_IS_BETTER'
    limit = change.get('absolute', 0.0)
    if abs(limit) < 1e-6:
      terms.append('no worse than the baseline')
    else:
      terms.append(f'change {"+" if limit >= 0 else ""}{limit:g} vs the baseline')
    if has_baseline and diff is not None:
      passed &= diff >= limit if higher else diff <= limit
    elif not has_baseline:
      terms[-1] += ' (no baseline yet: not applied)'
  return '; '.join(terms), bool(passed)


def _threshold_text(threshold: dict) -> str:
  return _check(threshold, 0.0, None, True)[0]
