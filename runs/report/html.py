"""The report page: one self-contained HTML file (inline CSS and SVG, nothing fetched).

Every value from a run (names, paths, error text, category values) is escaped; only the SVG
that matplotlib wrote is inlined as is. The Content-Security-Policy forbids any request, so
even a stray URL in the data could not make the page reach the network.
"""

import dataclasses
import html
from typing import Dict, List, Optional, Sequence, Tuple

from core import data_quality
from runs import baseline
from runs.report import files_view
from runs.report import image_grid
from runs.report.data_view import AnomalyRow, DriftRow, FeatureView
from runs.report.figures import SPLIT_COLORS
from runs.report.model_view import EvaluationView, TrainingView
from runs.report.record import Step

SECTIONS = (('run', 'Run'), ('data', 'Data'), ('validation', 'Validation'),
            ('training', 'Training'), ('evaluation', 'Evaluation'))
_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2733}
header{padding:16px 28px;background:#1d2733;color:#fff}header h1{margin:0;font-size:20px}
header .sub{opacity:.8;font-size:13px}nav{padding:6px 28px;background:#eef1f4;position:sticky;
top:0}nav a{margin-right:18px;color:#1d4f80;text-decoration:none;font-weight:600}
main{padding:0 28px 40px}section{border-bottom:1px solid #dde2e7;padding:10px 0 18px}
h2{font-size:18px;margin:14px 0 8px}h3{font-size:15px;margin:12px 0 6px}
.banner{margin:14px 0;padding:12px 16px;border-radius:6px;white-space:pre-wrap;
font-family:ui-monospace,monospace;font-size:12.5px}.failed{background:#fdecea;
border:1px solid #c0392b}.succeeded{background:#e9f5ec;border:1px solid #3a9d5d}
.note{background:#fff8e1;border:1px solid #e0b100;padding:8px 12px;border-radius:6px;margin:8px 0}
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #dde2e7;padding:3px 8px;
text-align:left;vertical-align:top;font-size:13px}th{background:#f4f6f8}
.num{text-align:right;font-variant-numeric:tabular-nums}.pass{color:#1e7b3c;font-weight:600}
.fail{color:#c0392b;font-weight:600}.muted{color:#6c757d}code{font-size:12.5px}
.features{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:10px}
.feature{border:1px solid #dde2e7;border-radius:6px;padding:8px 10px}.feature h3{margin:0 0 4px}
.swatch{display:inline-block;width:11px;height:11px;margin:0 4px 0 8px;vertical-align:-1px}
.row{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}svg{max-width:100%;height:auto}
"""


@dataclasses.dataclass
class Page:
  summary: dict
  facts: List[Tuple[str, str]]
  steps: List[Step]
  timeline_svg: Optional[str] = None
  source_note: Optional[str] = None  # where the figures come from, when not this very run
  split_sizes: Dict[str, int] = dataclasses.field(default_factory=dict)
  features: List[FeatureView] = dataclasses.field(default_factory=list)
  feature_svgs: Dict[str, Optional[str]] = dataclasses.field(default_factory=dict)
  anomalies: List[AnomalyRow] = dataclasses.field(default_factory=list)
  validated: bool = False  # ExampleValidator's output was read
  drift: List[DriftRow] = dataclasses.field(default_factory=list)
  drift_note: str = ''
  drift_svg: Optional[str] = None
  training: Optional[TrainingView] = None
  training_svgs: Dict[str, str] = dataclasses.field(default_factory=dict)
  wait_svg: Optional[str] = None
  # The Tuner's trials (tuner_results.json: trial_id, score, hyperparameter values), best first.
  tuner_trials: List[Dict[str, object]] = dataclasses.field(default_factory=list)
  evaluation: Optional[EvaluationView] = None
  evaluation_svg: Optional[str] = None
  # The task's own figures (confusion matrix, ROC curve, predicted vs actual, residuals).
  task_svgs: List[str] = dataclasses.field(default_factory=list)
  task_notes: List[str] = dataclasses.field(default_factory=list)
  # An image classifier's eval images with true and predicted classes (runs/report/image_grid.py).
  image_grid: str = ''
  # The ExampleGen's counts (core/data_quality.py property): rows, left out, missing cells.
  data_quality: Optional[Dict[str, object]] = None
  problems: List[str] = dataclasses.field(default_factory=list)  # what could not be read


def _e(value) -> str:
  return html.escape('' if value is None else str(value), quote=True)


def _num(value: Optional[float], digits: int = 4) -> str:
  if value is None:
    return ''
  return str(int(value)) if value == int(value) and abs(value) >= 10 else f'{value:.{digits}f}'


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric=()) -> str:
  head = ''.join(f'<th>{_e(h)}</th>' for h in header)
  head = f'<tr>{head}</tr>' if header else ''
  body = ''.join('<tr>' + ''.join(
      f'<td class="num">{cell}</td>' if i in numeric else f'<td>{cell}</td>'
      for i, cell in enumerate(row)) + '</tr>' for row in rows)
  return f'<table>{head}{body}</table>'


def render(page: Page) -> str:
  summary = page.summary
  status = summary.get('status') or 'unknown'
  banner = (f'<div class="banner failed" id="failure"><b>FAILED</b>: {_e(summary.get("error"))}'
            '</div>' if status == 'failed' else
            f'<div class="banner succeeded">succeeded; blessed: {_e(summary.get("blessed"))}; '
            f'pushed model: {_e(summary.get("pushed_model") or "none")}</div>')
  notes = ''.join(f'<div class="note">{_e(n)}</div>' for n in
                  ([page.source_note] if page.source_note else []) +
                  [f'not shown: {p}' for p in page.problems])
  nav = ''.join(f'<a href="#{key}">{title}</a>' for key, title in SECTIONS)
  body = ''.join(f'<section id="{key}"><h2>{title}</h2>{build(page)}</section>'
                 for (key, title), build in zip(SECTIONS, (
                     _run, _data, _validation, _training, _evaluation)))
  title = f'Pipeline run: {status}'
  return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
          f'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
          f'style-src \'unsafe-inline\'; img-src data:">'
          f'<title>{_e(title)}</title><style>{_CSS}{image_grid.CSS}</style></head><body>'
          f'<header><h1>{_e(title)}</h1><div class="sub">finished '
          f'{_e(summary.get("finished") or "?")} · engine {_e(summary.get("engine") or "local")}'
          f'</div></header><nav>{nav}</nav><main>{banner}{notes}{body}</main></body></html>\n')


def _run(page: Page) -> str:
  facts = _table([], [(f'<b>{_e(k)}</b>', _e(v)) for k, v in page.facts])
  if not page.steps:
    return facts + '<p class="muted">No component ran.</p>'
  rows = [(_e(s.name), _e(s.status + (f' ({s.state})' if s.state else '')),
           '' if s.seconds is None else f'{s.seconds:.1f}', _e(s.error or ''))
          for s in page.steps]
  return (facts + '<h3>Timeline</h3>' + (page.timeline_svg or '') +
          '<details><summary>as a table</summary>' +
          _table(['component', 'status', 'seconds', 'why'], rows, numeric={2}) + '</details>')


def _data(page: Page) -> str:
  quality = (_rows_read(page.data_quality) + files_view.files_section(page.data_quality)
             if page.data_quality else '')
  if not page.features:
    return quality + ('<p class="muted">No statistics: StatisticsGen did not run or wrote '
                      'none.</p>')
  return quality + _statistics(page)


def _rows_read(quality) -> str:
  """The ExampleGen's exact counts: rows read and left out per split, and each column's
  missing share per split (all-empty and mostly-empty columns flagged)."""
  order = {'train': 0, 'eval': 1}
  splits = dict(sorted(quality['splits'].items(), key=lambda item: (order.get(item[0], 2),
                                                                     item[0])))
  read = ', '.join(f'{_e(split)} {counts["rows"]:,}' for split, counts in splits.items())
  total = sum(counts['rows'] for counts in splits.values())
  left_out = sum(counts['rows_without_label'] for counts in splits.values())
  label = ' or '.join(repr(name) for name in quality.get('label_columns') or []) or 'none'
  text = (f'<p id="rows-read">The ExampleGen read {total:,} rows ({read}). '
          + (f'<b>{left_out:,} had no label</b> (no {_e(label)}) and were left out of training, '
             'tuning and evaluation: ' + ', '.join(
                 f'{_e(split)} {counts["rows_without_label"]:,}'
                 for split, counts in splits.items()) + '.'
             if left_out else
             f'No row was without a label (it needs {_e(label)} present).'
             if quality.get('label_columns') else
             'No row was left out: the label needs no column present (its expression counts '
             'a missing input as 0, as its definition says).') + '</p>')
  columns = sorted({name for counts in splits.values() for name in counts['missing']})
  shares = {name: sum(counts['missing'].get(name, 0) for counts in splits.values()) / total
            if total else 0.0 for name in columns}
  missing = sorted((name for name in columns if shares[name] > 0),
                   key=lambda name: (-shares[name], name))
  rows = [[_e(name)] + [share(counts['missing'].get(name, 0) / counts['rows'])
                        if counts['rows'] else '' for counts in splits.values()] +
          [share(shares[name]), f'<span class="fail">{data_quality.flag(shares[name])}</span>'
           if data_quality.flag(shares[name]) else ''] for name in missing]
  table = (_table(['column', *splits, 'all rows', ''], rows,
                  numeric=set(range(1, len(splits) + 2))) if rows else '')
  others = len(columns) - len(missing)
  return ('<h3>Rows read and missing values</h3>' + text +
          '<p>Missing cells per column, as shares of the rows read in each split (exact '
          'counts by the ExampleGen; an empty cell is missing).' +
          (f' {others} other column(s) have no missing cell.' if missing and others else
           ' No column has a missing cell.' if not missing else '') + '</p>' + table)


def share(value: float) -> str:
  """A share as a percentage that never rounds a few rows to 0% or all but a few to 100%."""
  if 0 < value < 0.001:
    return '&lt;0.1%'
  if 0.999 < value < 1:
    return '&gt;99.9%'
  return f'{value:.1%}'


def _statistics(page: Page) -> str:
  sizes = ', '.join(f'{_e(s)}: {n} examples' for s, n in page.split_sizes.items())
  legend = ' '.join(f'<span class="swatch" style="background:{color}"></span>{_e(split)}'
                    for split, color in zip(page.split_sizes, SPLIT_COLORS))
  cards = []
  for view in page.features:
    rows = [(_e(split), str(f.count), share(f.missing), _e(f.summary))
            for split, f in view.splits.items()]
    cards.append(
        f'<div class="feature" id="feature-{_e(view.name)}"><h3>{_e(view.name)} '
        f'<span class="muted">({_e(view.kind)})</span></h3>'
        f'<div>schema: {_e("; ".join(view.expectation))}</div>'
        + (_table(['split', 'with value', 'missing', 'statistics'], rows, numeric={1, 2})
           if rows else '<p class="fail">absent from every split</p>')
        + (page.feature_svgs.get(view.name) or '') + '</div>')
  return (f'<p>Splits: {sizes}. Plots show each split\'s share of examples per bucket '
          f'(numeric: first split filled, others outlined) or per value (top values, '
          f'categorical): {legend}</p><div class="features">{"".join(cards)}</div>')


def _validation(page: Page) -> str:
  if page.anomalies:
    rows = [(_e(a.split), _e(a.feature), _e(a.kind), _e(a.description)) for a in page.anomalies]
    found = (f'<p class="fail">{len(rows)} anomal{"y" if len(rows) == 1 else "ies"} found</p>'
             + _table(['split', 'feature', 'kind', 'description'], rows))
  elif page.validated:
    found = '<p class="pass">No anomalies against the curated schema.</p>'
  else:
    found = '<p class="muted">Not validated: ExampleValidator did not run.</p>'
  rows = [(_e(r.feature), _e(r.comparator), _num(r.distance), f'{r.threshold:g}',
           _e(r.worst_value), '' if r.distance is None else
           ('<span class="fail">over</span>' if r.over else '<span class="pass">within</span>'))
          for r in page.drift]
  drift = ('<h3>Drift against the baseline</h3>' + f'<p>{_e(page.drift_note)}</p>' +
           (page.drift_svg or '') +
           _table(['feature', 'comparator', 'distance', 'threshold', 'value moved most', ''],
                  rows, numeric={2, 3}) if rows else '')
  return '<h3>Anomalies</h3>' + found + drift


def _training(page: Page) -> str:
  view = page.training
  if view is None:
    return '<p class="muted">No training logs: the Trainer did not run in this run.</p>'
  charts = ''.join(page.training_svgs.get(name, '') for name in view.metrics)
  rows = [(_e(name), _e(series.label), str(len(series.points)),
           _num(series.points[-1][1]) if series.points else '')
          for name, all_series in view.metrics.items() for series in all_series]
  monitor = (f'<h3>Input pipeline</h3><p><b>{_e(view.verdict)}</b></p>' +
             (f'<p>last epoch: {_num(view.step_ms, 2)} ms per step, '
              f'{_num(view.compute_ms, 2)} ms of it compute; input-bound when the input alone '
              f'paces the step and waiting passes {view.threshold:.0%} of it (threshold '
              f'{view.threshold:.0%}). The bars: step minus compute per epoch, the most that '
              'can be waiting; red where judged input-bound.</p>' if view.step_ms else '') +
             (page.wait_svg or ''))
  logged = max((len(s.points) for all_series in view.metrics.values() for s in all_series),
               default=0)
  steps = f'; {view.train_steps} training steps' if view.train_steps else ''
  intro = (f'Loss and metrics per {view.axis} for train and eval, from the Trainer\'s '
           f'TensorBoard logs ({logged} {view.axis}(s) logged{steps}). '
           f'{view.eval_scope[:1].upper()}{view.eval_scope[1:]}.')
  if view.axis == 'epoch' and logged <= 1:
    intro += (' Keras logs once per epoch and this run trained one epoch, so there is one '
              'value per split.')
  return (f'<p>{_e(intro)}</p>'
          f'<div class="row">{charts}</div>' +
          _table(['metric', 'split', f'{view.axis}s logged', 'last value'], rows,
                 numeric={2, 3}) + _tuner(page) + monitor)


def _tuner(page: Page) -> str:
  if not page.tuner_trials:
    return ''
  names = sorted({key for trial in page.tuner_trials for key in trial} -
                 {'trial_id', 'score'})
  rows = [(_e(trial.get('trial_id')) + (' (best: trained with)' if index == 0 else ''),
           _num(trial.get('score')), *(_e(trial.get(name)) for name in names))
          for index, trial in enumerate(page.tuner_trials)]
  return ('<h3 id="tuner">Tuner</h3><p>Trials of the hyperparameter search, best first; the '
          'score is the validation metric the blessing threshold uses.</p>' +
          _table(['trial', 'score', *names], rows, numeric={1}))


def _evaluation(page: Page) -> str:
  view = page.evaluation
  if view is None:
    return '<p class="muted">Not evaluated: the Evaluator did not run in this run.</p>'
  notes = ''.join(f'<div class="note">{_e(n)}</div>' for n in view.notes)
  verdict = {True: '<span class="pass">pass</span>', False: '<span class="fail">fail</span>',
             None: ''}
  rows = [(_e(r.name), _num(r.value), _num(r.baseline), _num(r.diff), _e(r.threshold),
           verdict[r.passed]) for r in view.rows]
  blessed = {True: '<span class="pass">blessed</span>',
             False: '<span class="fail">not blessed</span>', None: 'unknown'}[view.blessed]
  slices = ''
  if view.slices:
    names = sorted({m for values in view.slices.values() for m in values})
    slices = '<h3>Per slice</h3>' + _table(
        ['slice'] + names, [[_e(s)] + [_num(v.get(m)) for m in names]
                            for s, v in sorted(view.slices.items())], numeric=set(
                                range(1, len(names) + 1)))
  configured = ', '.join(view.configured_slices) or 'none'
  reason = page.summary.get(baseline.REASON_KEY)
  found = page.summary.get(baseline.KEY)
  beside = (f'<h3>Beside the baselines ({_e(found["metric"])}, eval split)</h3>' + _table(
      ['model', found['metric']], [(_e(what), 'unknown' if value is None else
                                    value if value == baseline.NOT_FIT else _num(value))
                                   for what, value in baseline.rows(found)],
      numeric={1}) if found else '')
  return (notes + f'<p>Blessing: {blessed}. Pushed model: '
          f'<code>{_e(view.pushed_model or "none")}</code></p>' +
          (f'<p class="fail">{_e(reason)}</p>' if reason else '') + beside +
          (page.evaluation_svg or '') +
          (_table(['metric', 'candidate', 'baseline', 'diff', 'threshold', ''], rows,
                  numeric={1, 2, 3}) if rows else '<p class="muted">No metrics.</p>') +
          (f'<div class="row" id="task-figures">{"".join(s for s in page.task_svgs if s)}</div>'
           + ''.join(f'<p class="muted">{_e(n)}</p>' for n in page.task_notes)
           if page.task_svgs else '') +
          page.image_grid +
          f'<p class="muted">Slices configured: {_e(configured)}.</p>' + slices)
