"""Plots as inline SVG (runs/report/figures.py)."""

import re

from runs.report import data_view
from runs.report import figures
from runs.report.model_view import Series
from runs.report.record import Step
from tests.runs.report import fixtures


def _views():
  stats = fixtures.feature_stats(4, {'A': 3, 'B': 1}).datasets[0]
  return {v.name: v for v in data_view.features({'train': stats, 'eval': stats}, None)}


def _check_inline_svg(svg: str) -> None:
  assert svg.startswith('<svg') and svg.rstrip().endswith('</svg>')
  assert not re.search(r'(?:href|src)\s*=\s*"https?:', svg)
  assert '<metadata' not in svg  # no creator, date or RDF links


def test_every_figure_is_an_inline_svg_without_links():
  views = _views()
  svgs = [
      figures.timeline([Step('CsvExampleGen', 'ran', 3.0), Step('Transform', 'cached', 0.1),
                        Step('Trainer', 'failed', None)]),
      figures.feature(views['fare']), figures.feature(views['company']),
      figures.drift([data_view.DriftRow('company', 0.3, 0.2, 'L-infinity', 'A')]),
      figures.metric_lines('loss', [Series('train', [(1, 0.5), (2, 0.4)]),
                                    Series('eval', [(1, 0.6), (2, 0.5)])], 'epoch'),
      figures.metric_lines('loss', [Series('train', [(1, 0.5)]), Series('eval', [(1, 0.6)])],
                           'epoch'),
      figures.wait_share([(1, 0.05), (2, 0.3)], [2]),
  ]
  for svg in svgs:
    _check_inline_svg(svg)
  assert 'Transform' in svgs[0] and '0.3000 (threshold 0.2)' in svgs[3]


def test_ids_of_figures_inlined_in_one_page_never_collide():
  ids = []
  for _ in range(3):
    ids += re.findall(r'id="([^"]+)"', figures.feature(_views()['fare']))
  assert ids and len(ids) == len(set(ids))


def test_nothing_to_plot_gives_no_figure():
  assert figures.timeline([]) is None
  assert figures.feature(_views()['pickup_census_tract']) is None
  assert figures.drift([data_view.DriftRow('company', None, 0.2, 'L-infinity', '')]) is None
  assert figures.wait_share([]) is None
