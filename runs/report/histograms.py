"""Numeric histograms a reader can see: a long tail is clipped at the 1st/99th percentile, and
overflow bins say how many values lie beyond.

TFDV's standard histogram has ten equal-width buckets from the minimum to the maximum, so one
fare of $700 among fares of $5-60 puts 99.9% of the values in the first bucket. Here the range is
the first split's [1st, 99th] percentile on a side whose tail beyond it spans more than half the
range between them (else the minimum or maximum), from StatisticsGen's percentiles (100 equal-
count quantile buckets: pipeline/graph.py); each split's values are spread over 20 equal-width
bins of that range, each quantile bucket's count evenly over its own width. TFDV's quantiles are
approximate, so the bins and the overflow counts are too (about 1% of values per percentile).
A run whose statistics have no percentiles (older runs) is drawn from TFDV's standard buckets.
"""

import dataclasses
import math
from typing import List, Optional, Sequence, Tuple

Bucket = Tuple[float, float, float]  # low, high, count
BINS = 20
TAIL = 0.5  # clip a side whose tail spans more than this share of the 1st-99th percentile range
_PERCENTILES = 100


@dataclasses.dataclass(frozen=True)
class Range:
  low: float
  high: float
  minimum: float
  maximum: float

  @property
  def clipped_low(self) -> bool:
    return self.low > self.minimum

  @property
  def clipped_high(self) -> bool:
    return self.high < self.maximum


@dataclasses.dataclass(frozen=True)
class Histogram:
  edges: List[float]  # BINS + 1 edges over the range
  counts: List[float]  # values per bin
  below: float  # values under the range (about)
  above: float  # values over it (about)


def robust_range(quantiles: Sequence[Bucket]) -> Optional[Range]:
  """The range to draw a split with percentile buckets over; None without percentiles or
  without spread."""
  if len(quantiles) < _PERCENTILES:
    return None
  minimum, maximum = quantiles[0][0], quantiles[-1][1]
  first, last = quantiles[0][1], quantiles[-1][0]  # the 1st and 99th percentiles
  middle = last - first
  if middle <= 0:
    return None  # most values equal: the standard buckets show it as it is
  # A clip point repeated by the next percentile is a value many rows share: the percentile
  # bucket beyond it may hold more of them than values beyond, so that side is not clipped.
  low = first if first - minimum > TAIL * middle and quantiles[1][1] > first else minimum
  high = last if maximum - last > TAIL * middle and quantiles[-2][0] < last else maximum
  return Range(low, high, minimum, maximum)


def spread(quantiles: Sequence[Bucket], limits: Range, bins: int = BINS,
           integers: bool = False) -> Histogram:
  """Each quantile bucket's count spread evenly over its width, into `bins` equal-width bins
  over `limits`; what falls outside is counted below or above. Whole numbers: bins of whole
  widths centred on them (a bucket (a, b] holds a+1..b), so months do not comb."""
  if integers:
    width = float(max(1, math.ceil((limits.high - limits.low + 1) / bins)))
    bins = math.ceil((limits.high - limits.low + 1) / width)
    start = limits.low - 0.5
    limits = Range(start, start + bins * width, limits.minimum - 0.5, limits.maximum + 0.5)
    quantiles = [(low - 0.5 if index == 0 else low + 0.5, high + 0.5, count) if high > low
                 else (low, high, count) for index, (low, high, count) in enumerate(quantiles)]
  width = (limits.high - limits.low) / bins
  edges = [limits.low + index * width for index in range(bins)] + [limits.high]
  counts = [0.0] * bins
  below = above = 0.0
  for low, high, count in quantiles:
    if high <= low:  # a bucket of one value (many equal values)
      if low < limits.low:
        below += count
      elif low > limits.high:
        above += count
      else:
        counts[min(bins - 1, int((low - limits.low) / width))] += count
      continue
    density = count / (high - low)
    below += density * max(0.0, min(high, limits.low) - low)
    above += density * max(0.0, high - max(low, limits.high))
    start, end = max(low, limits.low), min(high, limits.high)
    if end <= start:
      continue
    for index in range(int((start - limits.low) / width), bins):
      overlap = min(end, edges[index + 1]) - max(start, edges[index])
      if overlap <= 0 and edges[index] >= end:
        break
      counts[index] += density * max(0.0, overlap)
  return Histogram(edges, counts, below, above)


def histograms(splits: Sequence[Sequence[Bucket]],
               integers: bool = False) -> Tuple[Optional[Range], List[Optional[Histogram]]]:
  """The first split's robust range and every split's histogram over it (None for a split
  without percentiles); (None, []) when the first split has none."""
  limits = robust_range(splits[0]) if splits else None
  if limits is None:
    return None, []
  return limits, [spread(quantiles, limits, integers=integers)
                  if len(quantiles) >= _PERCENTILES else None for quantiles in splits]
