"""The data and validation sections as plain values: per-feature statistics of each split with
the curated schema's expectation beside them, every anomaly the gates found, and the drift of
each feature against the baseline the AnomaliesGate used.

Drift is recomputed here as TFDV defines the L-infinity distance (the largest difference in the
share of any one value between the two datasets), from the two statistics files, so the report
needs no TFDV import; the gate's own verdict is among the anomalies.
"""

import dataclasses
import re
from typing import Dict, List, Optional, Tuple

from tensorflow_metadata.proto.v0 import anomalies_pb2
from tensorflow_metadata.proto.v0 import schema_pb2
from tensorflow_metadata.proto.v0 import statistics_pb2

Stats = statistics_pb2.DatasetFeatureStatistics
# AnomaliesGate's rows in a run's error: `  [split] feature: KIND: description`
_GATE_ROW = re.compile(r'^\s*\[(?P<split>[^\]]+)\] (?P<feature>[^:]+): (?P<kind>[A-Z][A-Z_]+): '
                       r'(?P<description>.*)$')
_TOP_VALUES = 10


@dataclasses.dataclass
class SplitFeature:
  """One feature in one split."""
  count: int  # examples with a value
  missing: float  # share of examples without one
  summary: str  # 'mean 12.3, std 4.5, min 0, max 99' or '45 unique'
  buckets: List[Tuple[float, float, float]] = dataclasses.field(default_factory=list)  # lo, hi, n
  top_values: List[Tuple[str, float]] = dataclasses.field(default_factory=list)
  # Equal-count buckets between quantiles (percentiles when StatisticsGen was asked for 100).
  quantiles: List[Tuple[float, float, float]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class FeatureView:
  name: str
  kind: str  # 'numeric' or 'categorical'
  splits: Dict[str, SplitFeature]
  expectation: List[str]  # the schema's expectation, one phrase per constraint
  integers: bool = False  # whole numbers (histogram bins fall on them)


@dataclasses.dataclass(frozen=True)
class AnomalyRow:
  split: str
  feature: str
  kind: str
  description: str


@dataclasses.dataclass(frozen=True)
class DriftRow:
  feature: str
  distance: Optional[float]  # None: not computable (feature missing on one side)
  threshold: float
  comparator: str
  worst_value: str  # the value whose share moved most

  @property
  def over(self) -> bool:
    return self.distance is not None and self.distance > self.threshold


def feature_name(feature: statistics_pb2.FeatureNameStatistics) -> str:
  return '.'.join(feature.path.step) if feature.path.step else feature.name


def features(stats: Dict[str, Stats], schema: Optional[schema_pb2.Schema]) -> List[FeatureView]:
  """Every feature of any split, by name, with each split's figures and the schema's terms."""
  by_name: Dict[str, FeatureView] = {}
  schema_features = {f.name: f for f in schema.feature} if schema else {}
  for split, dataset in stats.items():
    for feature in dataset.features:
      name = feature_name(feature)
      kind = ('numeric' if feature.type in (statistics_pb2.FeatureNameStatistics.INT,
                                            statistics_pb2.FeatureNameStatistics.FLOAT)
              else 'categorical')
      view = by_name.setdefault(name, FeatureView(
          name, kind, {}, expectation(schema_features.get(name), schema),
          integers=feature.type == statistics_pb2.FeatureNameStatistics.INT))
      view.splits[split] = _split_feature(feature, dataset.num_examples)
  for view in by_name.values():
    if view.splits and not any(split.count for split in view.splits.values()):
      view.kind = 'no values'  # e.g. an empty CSV column, typed STRING by TFDV whatever it is
  for name, feature in schema_features.items():  # expected but absent from every split
    by_name.setdefault(name, FeatureView(name, 'missing', {}, expectation(feature, schema)))
  return [by_name[name] for name in sorted(by_name)]


def _split_feature(feature, num_examples: int) -> SplitFeature:
  if feature.HasField('num_stats'):
    num = feature.num_stats
    common = num.common_stats
    summary = (f'mean {number(num.mean)}, std {number(num.std_dev)}, min {number(num.min)}'
               f', max {number(num.max)}, zeros {num.num_zeros}')
    standard = [h for h in num.histograms if h.type == statistics_pb2.Histogram.STANDARD]
    quantile = [h for h in num.histograms if h.type == statistics_pb2.Histogram.QUANTILES]
    buckets = [(b.low_value, b.high_value, b.sample_count)
               for b in (standard[0].buckets if standard else [])]
    quantiles = [(b.low_value, b.high_value, b.sample_count)
                 for b in (quantile[0].buckets if quantile else [])]
    result = SplitFeature(common.num_non_missing, 0.0, summary, buckets=buckets,
                          quantiles=quantiles)
  elif feature.HasField('string_stats'):
    string = feature.string_stats
    common = string.common_stats
    # Every value once (an id, an image's content hash): a chart of them would be flat noise.
    every_value_once = string.unique == common.num_non_missing
    top = [] if every_value_once else [(v.value, v.frequency)
                                       for v in string.top_values[:_TOP_VALUES]]
    result = SplitFeature(common.num_non_missing, 0.0,
                          f'{string.unique} unique' + (' (every value once)' if every_value_once
                                                       else '') +
                          f', avg length {string.avg_length:.3g}',
                          top_values=top)
  elif feature.HasField('bytes_stats'):  # e.g. an image's encoded bytes
    raw = feature.bytes_stats
    common = raw.common_stats
    formats = image_formats(feature)
    summary = (f'avg {raw.avg_num_bytes:,.0f} bytes, min {raw.min_num_bytes:,.0f}, max '
               f'{raw.max_num_bytes:,.0f}')
    if formats:
      summary += '; formats ' + ', '.join(f'{name} {count:,.0f}' for name, count in formats)
    result = SplitFeature(common.num_non_missing, 0.0, summary, top_values=formats)
  else:  # no values at all in this split: TFDV writes the type and nothing else
    common = statistics_pb2.CommonStatistics(num_missing=num_examples)
    result = SplitFeature(0, 0.0, 'no values')
  total = num_examples or (common.num_non_missing + common.num_missing)
  result.count = present_count(common)
  if not result.count:  # every value an empty list: TFDV's mean 0, std 0 describe nothing
    result.summary, result.buckets, result.quantiles, result.top_values = 'no values', [], [], []
  result.missing = 1.0 - result.count / total if total else 0.0
  return result


def image_formats(feature: statistics_pb2.FeatureNameStatistics) -> List[Tuple[str, float]]:
  """(format, count) of TFDV's semantic-domain image statistics (by the bytes' signature;
  UNKNOWN: not an image), most first; [] when TFDV wrote none (fewer than 100 values, or
  mostly not images)."""
  for custom in feature.custom_stats:
    if custom.name == 'image_format_histogram':
      return sorted(((b.label, b.sample_count) for b in custom.rank_histogram.buckets),
                    key=lambda item: (-item[1], item[0]))
  return []


def present_count(common: statistics_pb2.CommonStatistics) -> int:
  """Examples with a value, from the value counts: TFDV counts a feature holding an empty list
  (how a missing CSV cell is written) as present, so its num_missing is 0 for a column that is
  all empty. For a column of at most one value per example, the examples with a value are the
  values counted."""
  if common.max_num_values <= 1:
    return min(common.num_non_missing, common.tot_num_values)
  return common.num_non_missing


def number(value: float) -> str:
  """Whole numbers in full (census tracts, timestamps), others to 4 significant digits."""
  if value == int(value) and abs(value) < 1e15:
    return str(int(value))
  return f'{value:.4g}'


def expectation(feature: Optional[schema_pb2.Feature],
                schema: Optional[schema_pb2.Schema]) -> List[str]:
  """The curated schema's terms for one feature, in words."""
  if schema is None:
    return ['no schema']
  if feature is None:
    return ['not in the curated schema']
  terms = [schema_pb2.FeatureType.Name(feature.type)]
  if feature.HasField('presence'):
    fraction = feature.presence.min_fraction
    terms.append('required in every example' if fraction >= 1.0 else
                 'optional' if fraction <= 0.0 else f'present in >= {fraction:.0%}')
  if feature.HasField('domain'):
    values = [d for d in schema.string_domain if d.name == feature.domain]
    terms.append(f'domain {feature.domain!r}' +
                 (f' ({len(values[0].value)} values)' if values else ''))
  elif feature.HasField('string_domain'):
    terms.append(f'{len(feature.string_domain.value)} allowed values')
  elif feature.HasField('int_domain'):
    terms.append('int ' + _bounds(feature.int_domain))
  elif feature.HasField('float_domain'):
    terms.append('float ' + _bounds(feature.float_domain))
  if feature.HasField('image_domain'):
    image = feature.image_domain
    terms.append(f'images (JPEG, PNG, GIF, BMP) in >= {image.minimum_supported_image_fraction:.0%}'
                 ' of values' + (f', each at most {image.max_image_byte_size:,} bytes'
                                 if image.max_image_byte_size else ''))
  if feature.HasField('distribution_constraints'):
    terms.append(f'>= {feature.distribution_constraints.min_domain_mass:.0%} of values in '
                 'the domain')
  comparator = drift_comparator(feature)
  if comparator:
    terms.append(f'drift {comparator[0]} <= {comparator[1]:g}')
  if feature.not_in_environment:
    terms.append('not in ' + ', '.join(feature.not_in_environment))
  return terms


def _bounds(domain) -> str:
  """An int or float domain's bounds as set: '[1, 9]', '>= 1', '<= 9', or 'any value'."""
  low, high = (f'{getattr(domain, end):g}' if domain.HasField(end) else None
               for end in ('min', 'max'))
  if low is not None and high is not None:
    return f'range [{low}, {high}]'
  return f'>= {low}' if low is not None else f'<= {high}' if high is not None else 'any value'


def drift_comparator(feature: schema_pb2.Feature) -> Optional[Tuple[str, float]]:
  if not feature.HasField('drift_comparator'):
    return None
  comparator = feature.drift_comparator
  if comparator.HasField('infinity_norm'):
    return 'L-infinity', comparator.infinity_norm.threshold
  if comparator.HasField('jensen_shannon_divergence'):
    return 'Jensen-Shannon', comparator.jensen_shannon_divergence.threshold
  return None


def anomalies(by_split: Dict[str, anomalies_pb2.Anomalies],
              error: Optional[str]) -> List[AnomalyRow]:
  """ExampleValidator's anomalies per split, plus the gates' rows in the run's error (drift and
  empty splits are only there), without duplicates."""
  rows = []
  for split, found in by_split.items():
    for feature, info in found.anomaly_info.items():
      for reason in info.reason:
        rows.append(AnomalyRow(split, feature, anomalies_pb2.AnomalyInfo.Type.Name(reason.type),
                               (reason.description or info.description).strip()))
    if found.HasField('dataset_anomaly_info'):
      for reason in found.dataset_anomaly_info.reason:
        rows.append(AnomalyRow(split, '<dataset>',
                               anomalies_pb2.AnomalyInfo.Type.Name(reason.type),
                               reason.description.strip()))
  for line in (error or '').splitlines():
    match = _GATE_ROW.match(line)
    if match:
      rows.append(AnomalyRow(**{k: v.strip() for k, v in match.groupdict().items()}))
  return sorted(set(rows), key=lambda r: (r.split, r.feature, r.kind, r.description))


def drift(current: Optional[Stats], baseline: Optional[Stats],
          schema: Optional[schema_pb2.Schema]) -> List[DriftRow]:
  """Each schema feature with a drift comparator: its distance from the baseline, if any."""
  rows = []
  for feature in (schema.feature if schema else []):
    comparator = drift_comparator(feature)
    if comparator is None:
      continue
    distance, worst = None, ''
    if current is not None and baseline is not None and comparator[0] == 'L-infinity':
      distance, worst = linf_distance(_shares(current, feature.name),
                                      _shares(baseline, feature.name))
    rows.append(DriftRow(feature.name, distance, comparator[1], comparator[0], worst))
  return rows


def _shares(stats: Stats, name: str) -> Optional[Dict[str, float]]:
  for feature in stats.features:
    if feature_name(feature) == name and feature.HasField('string_stats'):
      string = feature.string_stats
      counts = ({b.label: b.sample_count for b in string.rank_histogram.buckets}
                if string.rank_histogram.buckets else
                {v.value: v.frequency for v in string.top_values})
      total = sum(counts.values())
      return {value: count / total for value, count in counts.items()} if total else {}
  return None


def linf_distance(current: Optional[Dict[str, float]],
                  baseline: Optional[Dict[str, float]]) -> Tuple[Optional[float], str]:
  """max over values of |share now - share before|, and that value."""
  if current is None or baseline is None:
    return None, ''
  worst, distance = '', 0.0
  for value in sorted(set(current) | set(baseline)):
    difference = abs(current.get(value, 0.0) - baseline.get(value, 0.0))
    if difference > distance:
      worst, distance = value, difference
  return distance, worst
