"""Reads the files inside a run's artifacts with protobufs alone: no TensorFlow, TFDV or TFMA.

Importing TFMA takes 10-20 s and TFDV several; the report must take seconds, and
`python -m pipeline report` starts in a fresh process. Every file read here is a protobuf (or
a TFRecord of protobufs, or JSON), so the generated message classes are enough: TFRecord framing
is parsed here, and TFMA's metrics proto module is loaded from its file without running
`tensorflow_model_analysis/__init__.py` (it imports only protobuf's own modules).
"""

import gzip
import importlib.util
import json
import struct
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, NamedTuple, Optional

from google.protobuf import text_format
from google.protobuf.message import DecodeError
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tensorflow_metadata.proto.v0 import schema_pb2
from tensorflow_metadata.proto.v0 import statistics_pb2

from core.names import SCHEMA_DIFF_FILE, SCHEMA_FILE, STATS_FILE

EVAL_CONFIG_FILE = 'eval_config.json'  # Evaluator (TFMA)
_SPLIT_PREFIX = 'Split-'
_DT_FLOAT, _DT_DOUBLE = 1, 2  # tensorflow DataType values of a scalar summary's tensor


class ReportDataError(ValueError):
  """An artifact file exists but cannot be read; the message names the file."""


def records(path: Path) -> Iterator[bytes]:
  """The payloads of a TFRecord file (GZIP or not, told by its first bytes); CRCs unchecked."""
  with open(path, 'rb') as raw:
    gzipped = raw.read(2) == b'\x1f\x8b'
  # A record cannot be longer than the file (or, zipped, than a generous ratio of it): a
  # corrupt length must fail here, not allocate gigabytes.
  limit = Path(path).stat().st_size * (1000 if gzipped else 1)
  opener = gzip.open if gzipped else open
  with opener(path, 'rb') as f:
    while True:
      header = f.read(12)  # uint64 length, uint32 masked CRC of the length
      if not header:
        return
      if len(header) < 12:
        raise ReportDataError(f'{path}: truncated TFRecord header')
      (length,) = struct.unpack('<Q', header[:8])
      if length > limit:
        raise ReportDataError(f'{path}: not a TFRecord file (a record of {length} bytes)')
      payload = f.read(length)
      if len(payload) < length or len(f.read(4)) < 4:
        raise ReportDataError(f'{path}: truncated TFRecord of {length} bytes')
      yield payload


def split_dirs(uri: str) -> Dict[str, Path]:
  """{split name: folder} of a split artifact (`<uri>/Split-<name>/`), in a stable order."""
  if not uri:
    return {}
  root = Path(uri)
  if not root.is_dir():
    return {}
  found = {p.name[len(_SPLIT_PREFIX):]: p for p in root.iterdir()
           if p.is_dir() and p.name.startswith(_SPLIT_PREFIX)}
  order = {'train': 0, 'eval': 1}
  return dict(sorted(found.items(), key=lambda item: (order.get(item[0], 2), item[0])))


def load_statistics(path: Path) -> statistics_pb2.DatasetFeatureStatisticsList:
  try:
    return statistics_pb2.DatasetFeatureStatisticsList.FromString(Path(path).read_bytes())
  except DecodeError as error:
    raise ReportDataError(f'{path}: not a DatasetFeatureStatisticsList: {error}') from error


def split_statistics(uri: str) -> Dict[str, statistics_pb2.DatasetFeatureStatistics]:
  """{split: the split's dataset statistics} of an ExampleStatistics artifact."""
  result = {}
  for split, folder in split_dirs(uri).items():
    path = folder / STATS_FILE
    if path.exists():
      datasets = load_statistics(path).datasets
      if datasets:
        result[split] = datasets[0]
  return result


def split_anomalies(uri: str) -> Dict[str, anomalies_pb2.Anomalies]:
  """{split: Anomalies} of an ExampleAnomalies artifact (ExampleValidator)."""
  result = {}
  for split, folder in split_dirs(uri).items():
    path = folder / SCHEMA_DIFF_FILE
    if path.exists():
      result[split] = anomalies_pb2.Anomalies.FromString(path.read_bytes())
  return result


def load_schema(path: Path) -> schema_pb2.Schema:
  try:
    return text_format.Parse(Path(path).read_text(), schema_pb2.Schema())
  except text_format.ParseError as error:
    raise ReportDataError(f'{path}: not a text Schema: {error}') from error


class Scalar(NamedTuple):
  step: int
  value: float
  wall_time: float


def scalars(run_dir: str) -> Dict[str, Dict[str, List[Scalar]]]:
  """{sub-folder ('train', 'validation', 'input', ...): {tag: [Scalar, ...] by step}} from the
  TensorBoard event files under a Trainer's model_run folder."""
  from tensorboard.compat.proto import event_pb2  # pylint: disable=import-outside-toplevel
  found: Dict[str, Dict[str, List[Scalar]]] = {}
  root = Path(run_dir)
  if not run_dir or not root.is_dir():
    return found
  for path in sorted(root.rglob('events.out.tfevents.*')):
    group = str(path.parent.relative_to(root)) if path.parent != root else '.'
    for payload in records(path):
      event = event_pb2.Event.FromString(payload)
      for value in event.summary.value:
        number = _scalar_value(value)
        if number is not None:
          found.setdefault(group, {}).setdefault(value.tag, []).append(
              Scalar(event.step, number, event.wall_time))
  for tags in found.values():
    for series in tags.values():
      series.sort(key=lambda s: (s.step, s.wall_time))
  return found


def _scalar_value(value) -> Optional[float]:
  if value.HasField('simple_value'):
    return float(value.simple_value)
  if not value.HasField('tensor') or value.metadata.plugin_data.plugin_name != 'scalars':
    return None  # graphs, histograms, images: not scalars
  tensor = value.tensor
  if tensor.float_val:
    return float(tensor.float_val[0])
  if tensor.double_val:
    return float(tensor.double_val[0])
  if tensor.dtype == _DT_FLOAT and len(tensor.tensor_content) == 4:
    return struct.unpack('<f', tensor.tensor_content)[0]
  if tensor.dtype == _DT_DOUBLE and len(tensor.tensor_content) == 8:
    return struct.unpack('<d', tensor.tensor_content)[0]
  return None


def eval_config(uri: str) -> dict:
  """The EvalConfig the Evaluator ran with (its eval_config.json), as camelCase JSON; {} if none."""
  path = Path(uri) / EVAL_CONFIG_FILE
  if not uri or not path.exists():
    return {}
  return json.loads(path.read_text()).get('evalConfig', {})


class Metric(NamedTuple):
  slice: str  # 'Overall' or 'feature=value, ...'
  model: str  # '' (one model), 'candidate' or 'baseline'
  name: str
  is_diff: bool  # candidate minus baseline
  value: float


def eval_metrics(uri: str) -> List[Metric]:
  """Every scalar metric of every slice in an Evaluator output (metrics-* TFRecords)."""
  root = Path(uri)
  if not uri or not root.is_dir():  # Path('') would be the working directory
    return []
  proto = tfma_proto()
  metrics = []
  for path in sorted(root.glob('metrics*')):
    for payload in records(path):
      for_slice = proto.MetricsForSlice.FromString(payload)
      slice_name = slice_text(for_slice.slice_key)
      for item in for_slice.metric_keys_and_values:
        if item.value.HasField('double_value'):
          metrics.append(Metric(slice_name, item.key.model_name, item.key.name,
                                item.key.is_diff, item.value.double_value.value))
  return metrics


def slice_text(slice_key) -> str:
  parts = []
  for single in slice_key.single_slice_keys:
    kind = single.WhichOneof('kind')
    value = getattr(single, kind) if kind else ''
    parts.append(f'{single.column}={value.decode() if isinstance(value, bytes) else value}')
  return ', '.join(parts) or 'Overall'


def tfma_proto():
  """TFMA's metrics_for_slice_pb2, without importing TFMA (see the module docstring)."""
  real = sys.modules.get('tensorflow_model_analysis.proto.metrics_for_slice_pb2')
  if real is not None:
    return real
  private = sys.modules.get(_PRIVATE_TFMA_PROTO)
  if private is not None:
    return private
  package = importlib.util.find_spec('tensorflow_model_analysis')
  if package is None or not package.submodule_search_locations:
    raise ReportDataError('tensorflow_model_analysis is not installed: evaluation not readable')
  path = Path(package.submodule_search_locations[0]) / 'proto' / 'metrics_for_slice_pb2.py'
  spec = importlib.util.spec_from_file_location(_PRIVATE_TFMA_PROTO, path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  sys.modules[_PRIVATE_TFMA_PROTO] = module
  return module


_PRIVATE_TFMA_PROTO = '_pipeline_report_tfma_metrics_for_slice_pb2'


def tuner_trials(uri: str) -> List[Dict[str, Any]]:
  """The Tuner's completed trials (its tuner_results.json), best first."""
  path = Path(uri) / 'tuner_results.json'
  if not path.exists():
    return []
  try:
    trials = json.loads(path.read_text())
  except ValueError as error:
    raise ReportDataError(f'{path}: not JSON: {error}') from None
  if not isinstance(trials, list) or not all(isinstance(trial, dict) for trial in trials):
    raise ReportDataError(f'{path}: not a list of trials')
  return trials
