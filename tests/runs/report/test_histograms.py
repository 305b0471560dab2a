"""Numeric histograms clip a long tail at the 1st/99th percentile and say how many values lie
beyond (runs/report/histograms.py; drawn by figures.feature)."""

import re

import pytest

from runs.report import data_view
from runs.report import figures
from runs.report import histograms


def _percentiles(values):
  """100 equal-count quantile buckets of sorted `values`, as StatisticsGen writes them."""
  values = sorted(values)
  size = len(values) / 100
  return [(values[int(i * size)], values[min(len(values) - 1, int((i + 1) * size) - 1)], size)
          for i in range(100)]


# Fares: most between $4 and $60, a few far out (the taxi sample's max is $700).
_FARES = [4 + 56 * i / 9899 for i in range(9900)] + [100 + 6 * i for i in range(100)]


def test_a_long_tail_is_clipped_and_counted_beyond():
  quantiles = _percentiles(_FARES)
  limits = histograms.robust_range(quantiles)
  assert limits.low == 4 and not limits.clipped_low
  assert limits.high == pytest.approx(quantiles[-1][0]) and limits.clipped_high
  drawn = histograms.spread(quantiles, limits)
  assert len(drawn.counts) == histograms.BINS and drawn.edges[-1] == limits.high
  assert drawn.above == pytest.approx(100, abs=1) and drawn.below == 0
  assert sum(drawn.counts) + drawn.above == pytest.approx(10000)
  # No bin holds nearly everything, as TFDV's ten buckets from $4 to $694 did (99%).
  assert max(drawn.counts) < 0.1 * 10000


def test_whole_numbers_fall_in_bins_of_their_own():
  months = [1 + i % 12 for i in range(1200)]
  drawn = histograms.spread(_percentiles(months), histograms.robust_range(
      _percentiles(months)), integers=True)
  assert drawn.edges[0] == 0.5 and drawn.edges[1] == 1.5  # a bin per month, no gaps
  assert sum(1 for count in drawn.counts if count) == 12
  # One month typed wrong (500): its percentile bucket holds 12s too, so no clip claims ~1%
  # of the values lie beyond 12.
  limits = histograms.robust_range(_percentiles(months + [500]))
  assert not limits.clipped_high and limits.high == 500


def test_a_distribution_without_a_long_tail_is_not_clipped():
  limits = histograms.robust_range(_percentiles(range(1000)))
  assert not limits.clipped_low and not limits.clipped_high
  assert histograms.robust_range([(0.0, 1.0, 5.0)] * 10) is None  # deciles: older runs


def test_the_figure_says_how_many_values_lie_beyond():
  split = data_view.SplitFeature(10000, 0.0, 'mean 12', buckets=[(4.0, 694.0, 10000.0)],
                                 quantiles=_percentiles(_FARES))
  svg = figures.feature(data_view.FeatureView('fare', 'numeric', {'train': split}, []))
  assert re.search(r'beyond \(hatched\) &gt; [\d.]+ \(max 694\): train ~100<', svg), svg[-2000:]
  old = data_view.SplitFeature(10000, 0.0, 'mean 12', buckets=[(4.0, 694.0, 10000.0)])
  assert 'beyond' not in figures.feature(data_view.FeatureView('fare', 'numeric',
                                                               {'train': old}, []))
