"""The report's plots as inline SVG strings, drawn with matplotlib.

matplotlib is imported on first use (about a second), never at module import, so a run that
fails before any plot pays nothing. Figures are `matplotlib.figure.Figure` objects saved to SVG
directly: no pyplot, so no global figure registry or GUI backend is touched in the run's
process. Text stays text (`svg.fonttype: none`: smaller, faster, selectable) and each figure
gets its own id prefix, so ids of many SVGs inlined in one page never collide.
"""

import io
import itertools
import re
from typing import Dict, List, Optional, Sequence, Tuple

from runs.report import data_view
from runs.report import histograms
from runs.report.data_view import DriftRow, FeatureView
from runs.report.model_view import MetricRow, Series
from runs.report.record import Step

COLORS = {'ran': '#2f6fb0', 'cached': '#9aa5b1', 'failed': '#c0392b', 'not run': '#e0e0e0',
          'cancelled': '#e0a800', 'train': '#2f6fb0',
          'eval': '#e07b39', 'baseline': '#6c757d'}
SPLIT_COLORS = ['#2f6fb0', '#e07b39', '#3a9d5d', '#8e5ea2']
_counter = itertools.count()
_ID = re.compile(r'\bid="([^"]+)"')
_REFERENCE = re.compile(r'(href="#|url\(#)([^")]+)')


def new_figure(width: float, height: float, left: float = 0.5, bottom: float = 0.4,
            top: float = 0.1, right: float = 0.15):
  """A figure of width x height inches with these margins (inches). Fixed margins instead of
  bbox_inches='tight', which draws every figure twice."""
  from matplotlib.figure import Figure  # pylint: disable=import-outside-toplevel
  figure = Figure(figsize=(width, height), dpi=72)
  figure.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                         top=1 - top / height)
  return figure


def label_inches(labels: Sequence[str], points: float = 7.5) -> float:
  """Room for the longest tick label at this font size, plus the tick."""
  return 0.2 + 0.68 * points / 72 * max((len(label) for label in labels), default=0)


def to_svg(figure) -> str:
  """The figure as an <svg> element (no XML prolog, no metadata), ready to inline: its ids
  (matplotlib numbers them `figure_1`, `patch_1`, ... in every figure) prefixed with the
  figure's number, references included, so ids stay unique in the page."""
  import matplotlib  # pylint: disable=import-outside-toplevel
  buffer = io.StringIO()
  with matplotlib.rc_context({'svg.fonttype': 'none'}):
    figure.savefig(buffer, format='svg',
                   metadata={'Creator': None, 'Date': None, 'Format': None, 'Type': None})
  text = buffer.getvalue()
  text = text[text.index('<svg'):]
  prefix = f'fig{next(_counter)}-'
  ids = set(_ID.findall(text))
  text = _ID.sub(lambda m: f'id="{prefix}{m[1]}"', text)
  return _REFERENCE.sub(lambda m: f'{m[1]}{prefix}{m[2]}' if m[2] in ids else m[0], text)


def style(axes, grid_axis: str = 'x') -> None:
  for side in ('top', 'right'):
    axes.spines[side].set_visible(False)
  axes.tick_params(labelsize=8)
  axes.grid(axis=grid_axis, color='#e5e5e5', linewidth=0.6)
  axes.set_axisbelow(True)


def timeline(steps: Sequence[Step]) -> Optional[str]:
  """Components in run order as bars from their start (the previous ones' seconds summed)."""
  if not steps:
    return None
  figure = new_figure(9.5, 0.6 + 0.26 * len(steps), left=label_inches([s.name for s in steps], 8),
                   bottom=0.45, right=0.1)
  axes = figure.add_subplot()
  start, total = 0.0, sum(step.seconds or 0.0 for step in steps) or 1.0
  for row, step in enumerate(steps):
    seconds = step.seconds or 0.0
    axes.barh(row, max(seconds, total * 0.002), left=start, height=0.6,
              color=COLORS.get(step.status, COLORS['ran']))
    label = f'{seconds:.1f}s {step.status}' if step.seconds is not None else step.status
    axes.text(start + seconds + total * 0.01, row, label, va='center', fontsize=7.5)
    start += seconds
  axes.set_yticks(range(len(steps)), [step.name for step in steps])
  axes.invert_yaxis()
  axes.set_xlim(0, total * 1.18)
  axes.set_xlabel('seconds since the first component started', fontsize=8)
  style(axes)
  return to_svg(figure)


def feature(view: FeatureView) -> Optional[str]:
  """Histogram (numeric) or top values (categorical) of each split, as shares of its examples,
  so splits of different sizes compare."""
  splits = {name: split for name, split in view.splits.items()
            if split.buckets or split.top_values}
  if not splits:
    return None
  if view.kind == 'numeric':
    figure = new_figure(4.2, 2.05, left=0.55, bottom=0.35, top=0.25)
    axes = figure.add_subplot()
    limits, drawn = histograms.histograms([split.quantiles for split in splits.values()],
                                          integers=view.integers)
    below_text, above_text = [], []
    for index, (name, split) in enumerate(splits.items()):
      found = drawn[index] if drawn else None
      if found is None:  # no percentiles: TFDV's equal-width buckets, minimum to maximum
        counts = [n for _, _, n in split.buckets]
        edges = [low for low, _, _ in split.buckets] + [split.buckets[-1][1]]
        below = above = 0.0
      else:
        counts, edges, below, above = found.counts, found.edges, found.below, found.above
      total = (sum(counts) + below + above) or 1.0
      axes.stairs([n / total for n in counts], edges, label=name,
                  color=SPLIT_COLORS[index % 4], fill=index == 0, alpha=0.35 if index == 0
                  else 1.0, linewidth=1.2)
      if limits is not None and found is not None:
        width = (edges[-1] - edges[0]) / len(counts)
        for clipped, count, at in ((limits.clipped_low, below, edges[0] - width),
                                   (limits.clipped_high, above, edges[-1])):
          if clipped:  # the overflow bin, hatched, beside the range
            axes.bar(at, count / total, width=width, align='edge', fill=False, hatch='///',
                     edgecolor=SPLIT_COLORS[index % 4], linewidth=0.8)
        below_text.append(f'{name} ~{below:.0f}')
        above_text.append(f'{name} ~{above:.0f}')
    clipped = []  # how many values the clipped range leaves out, per split
    if limits is not None and limits.clipped_low:
      clipped.append(f'< {data_view.number(limits.low)} (min {data_view.number(limits.minimum)})'
                     f': {", ".join(below_text)}')
    if limits is not None and limits.clipped_high:
      clipped.append(f'> {data_view.number(limits.high)} (max '
                     f'{data_view.number(limits.maximum)}): {", ".join(above_text)}')
    if clipped:
      axes.set_title('beyond (hatched) ' + '; '.join(clipped), fontsize=7, loc='left')
    axes.set_ylabel('share', fontsize=8)
    axes.xaxis.set_major_locator(_ticker().MaxNLocator(4 if max(
        abs(b[1]) for split in splits.values() for b in split.buckets) >= 1e5 else 6))
    axes.xaxis.set_major_formatter(_ticker().FuncFormatter(lambda x, _: data_view.number(x)))
    style(axes, 'y')
  else:
    values = list(dict.fromkeys(v for split in splits.values() for v, _ in split.top_values))
    values = values[:10]
    figure = new_figure(4.2, 0.5 + 0.2 * len(values) * max(1, len(splits)) ** 0.5,
                     left=label_inches([_short(v) for v in values], 7), bottom=0.4)
    axes = figure.add_subplot()
    height = 0.8 / len(splits)
    for index, (name, split) in enumerate(splits.items()):
      counts = dict(split.top_values)
      total = (split.count or sum(counts.values())) or 1.0
      axes.barh([row + index * height for row in range(len(values))],
                [counts.get(value, 0) / total for value in values], height=height,
                color=SPLIT_COLORS[index % 4], label=name)
    axes.set_yticks([row + (len(splits) - 1) * height / 2 for row in range(len(values))],
                    [_short(value) for value in values], fontsize=7)
    axes.invert_yaxis()
    axes.set_xlabel('share of examples', fontsize=8)
    style(axes)
  return to_svg(figure)  # the split colours are explained once, above the figures


def _ticker():
  import matplotlib.ticker  # pylint: disable=import-outside-toplevel
  return matplotlib.ticker


def _short(text: str, limit: int = 28) -> str:
  return text if len(text) <= limit else text[:limit - 1] + '…'


def drift(rows: Sequence[DriftRow]) -> Optional[str]:
  """Each feature's distance from the baseline as a bar, its threshold as a tick."""
  measured = [row for row in rows if row.distance is not None]
  if not measured:
    return None
  figure = new_figure(6.0, 0.7 + 0.35 * len(measured),
                   left=label_inches([r.feature for r in measured], 8), bottom=0.45)
  axes = figure.add_subplot()
  for index, row in enumerate(measured):
    axes.barh(index, row.distance, height=0.5,
              color=COLORS['failed'] if row.over else COLORS['ran'])
    axes.plot([row.threshold] * 2, [index - 0.35, index + 0.35], color='black', linewidth=1.5)
    axes.text(max(row.distance, row.threshold) * 1.03, index,
              f'{row.distance:.4f} (threshold {row.threshold:g})', va='center', fontsize=7.5)
  axes.set_yticks(range(len(measured)), [row.feature for row in measured])
  axes.set_xlim(0, max(max(r.distance, r.threshold) for r in measured) * 1.6)
  axes.set_xlabel(f'{measured[0].comparator} distance from the baseline statistics', fontsize=8)
  axes.invert_yaxis()
  style(axes)
  return to_svg(figure)


def metric_lines(name: str, series: List[Series], axis: str) -> str:
  """One training metric over epochs (or steps), train and eval; with one value per split
  (one epoch logged), bars: a line through one point shows nothing."""
  figure = new_figure(3.6, 2.2, left=0.55, bottom=0.4, top=0.25)
  axes = figure.add_subplot()
  if all(len(item.points) <= 1 for item in series):
    labels = [item.label for item in series if item.points]
    values = [item.points[-1][1] for item in series if item.points]
    bars = axes.bar(labels, values, width=0.55, color=[COLORS.get(l) for l in labels])
    axes.bar_label(bars, fmt='%.4g', fontsize=7.5)
    axes.set_ylim(0, max(values, default=1.0) * 1.2 or 1.0)
    style(axes, 'y')
  else:
    for item in series:
      steps, values = zip(*item.points) if item.points else ((), ())
      axes.plot(steps, values, marker='o', markersize=3, linewidth=1.4, label=item.label,
                color=COLORS.get(item.label))
    axes.set_xlabel(axis, fontsize=8)
    if axis == 'epoch':
      axes.xaxis.get_major_locator().set_params(integer=True)
    axes.legend(fontsize=7, frameon=False)
    style(axes, 'both')
  axes.set_title(name, fontsize=9)
  return to_svg(figure)


def wait_share(points: List[Tuple[int, float]],
               input_bound: Sequence[int] = ()) -> Optional[str]:
  """The input monitor's step time minus compute, as a share of the step, per epoch: the most
  that can be waiting for data; red where the monitor judged the epoch input-bound."""
  if not points:
    return None
  figure = new_figure(4.2, 2.0, left=0.65, bottom=0.4)
  axes = figure.add_subplot()
  epochs, shares = zip(*points)
  bars = axes.bar(epochs, shares, width=0.5,
                  color=[COLORS['failed'] if e in input_bound else COLORS['ran'] for e in epochs])
  axes.bar_label(bars, labels=[f'{s:.0%}' for s in shares], fontsize=7.5)
  # No threshold line: the share is an upper bound on the wait; the verdict judges it.
  axes.set_ylim(0, max(max(shares), 0.05) * 1.3)
  axes.set_xlim(0.5, max(epochs) + 0.5)
  axes.set_xticks(list(epochs))
  axes.set_xlabel('epoch', fontsize=8)
  axes.set_ylabel('step - compute', fontsize=8)
  axes.yaxis.set_major_formatter(_percent())
  style(axes, 'y')
  return to_svg(figure)


def evaluation(rows: Sequence[MetricRow]) -> Optional[str]:
  """Metrics on a 0-1 scale (losses aside): the candidate's (green if it passed its threshold, red if not)
  and the baseline's as bars, each lower bound as a tick."""
  shown = [row for row in rows if row.value is not None and 0.0 <= row.value <= 1.0
           and 'loss' not in row.name]
  if not shown:
    return None
  figure = new_figure(6.0, 0.7 + 0.5 * len(shown), left=label_inches([r.name for r in shown], 8),
                   bottom=0.45, right=0.2)
  axes = figure.add_subplot()
  for index, row in enumerate(shown):
    color = {True: '#3a9d5d', False: COLORS['failed']}.get(row.passed, COLORS['ran'])
    axes.barh(index - 0.17, row.value, height=0.32, color=color,
              label='candidate' if index == 0 else None)
    axes.text(row.value + 0.01, index - 0.17, f'{row.value:.4f}', va='center', fontsize=7.5)
    if row.baseline is not None:
      axes.barh(index + 0.17, row.baseline, height=0.32, color=COLORS['baseline'],
                label='baseline' if not any(r.baseline is not None for r in shown[:index])
                else None)
      axes.text(row.baseline + 0.01, index + 0.17, f'{row.baseline:.4f}', va='center',
                fontsize=7.5)
    bound = re.search(r'>= ([0-9.eE+-]+)', row.threshold)
    if bound:
      axes.plot([float(bound[1])] * 2, [index - 0.42, index + 0.42], color='black', linewidth=1.6)
  axes.set_yticks(range(len(shown)), [row.name for row in shown])
  axes.set_xlim(0, 1.3)
  axes.set_xticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
  axes.invert_yaxis()
  axes.set_xlabel('value (black tick: the lower bound to bless)', fontsize=8)
  axes.legend(fontsize=7, frameon=False, loc='upper right')
  style(axes)
  return to_svg(figure)


def _percent():
  return _ticker().PercentFormatter(1.0, decimals=0)


def all_features(views: Sequence[FeatureView]) -> Dict[str, Optional[str]]:
  return {view.name: feature(view) for view in views}
