"""A batch prediction over files of raw rows, writing what Vertex AI's BatchPredictionJob writes.

Input: JSONL (one instance per line: a JSON object of column values, or {"b64": ...}) or CSV (a
header row, then one row per instance: the columns as the data has them, the label optional).
Output, in the output folder:
  prediction.results-00000-of-00001        one JSON line per instance that was predicted:
                                           {"instance": ..., "prediction": ...}
  prediction.errors_stats-00000-of-00001   one JSON line per instance that was not:
                                           {"instance": ..., "error": {"status": 3,
                                                                       "message": "..."}}
(the names custom-model jobs write; a CSV instance is the row's values as a list, as Vertex
writes it). Every input row is in exactly one of the two files, in input order.
"""

import csv
import dataclasses
import io
import json
from typing import Any, Iterator, List, Sequence, Tuple

import tensorflow as tf

from serving import instances as instances_lib
from serving import model as model_lib

RESULTS = 'prediction.results-00000-of-00001'
ERRORS = 'prediction.errors_stats-00000-of-00001'
FORMATS = ('jsonl', 'csv')
_CHUNK = 256
_INVALID_ARGUMENT = 3  # google.rpc.Code


@dataclasses.dataclass(frozen=True)
class BatchResult:
  predicted: int
  failed: int


class BatchInputError(ValueError):
  """An input file cannot be read as the format says."""


def _jsonl(path: str) -> Iterator[Tuple[Any, Any]]:
  with tf.io.gfile.GFile(path) as file:
    for number, line in enumerate(file, start=1):
      if not line.strip():
        continue
      try:
        instance = json.loads(line)
      except json.JSONDecodeError as error:
        yield line.rstrip('\n'), f'{path}: line {number} is not JSON: {error}'
        continue
      yield instance, instance


def _csv(path: str) -> Iterator[Tuple[Any, Any]]:
  with tf.io.gfile.GFile(path) as file:
    reader = csv.reader(io.StringIO(file.read()))
    header = next(reader, None)
    if header is None:
      raise BatchInputError(f'{path}: empty: a CSV input needs a header row')
    for number, row in enumerate(reader, start=2):
      if len(row) != len(header):
        yield row, (f'{path}: line {number}: {len(row)} fields, the header has {len(header)}')
      else:
        yield row, dict(zip(header, row))


def read(paths: Sequence[str], instances_format: str) -> Iterator[Tuple[Any, Any]]:
  """(the instance as written to the output, the instance to predict or an error text)."""
  if instances_format not in FORMATS:
    raise BatchInputError(f'instances format {instances_format!r} is not supported; use one of '
                          f'{list(FORMATS)}')
  for path in paths:
    yield from (_jsonl if instances_format == 'jsonl' else _csv)(path)


def _predict(model: model_lib.ServedModel, examples: List[Any], problems: List[Any]) -> List[Any]:
  """Predictions of the examples that have one; an example the model refuses (a missing
  required value) becomes a problem instead, found by predicting one at a time."""
  good = [example for example in examples if example is not None]
  try:
    return model.predict_examples(good)
  except instances_lib.InstanceError:
    predictions = []
    for index, example in enumerate(examples):
      if example is None:
        continue
      try:
        predictions.extend(model.predict_examples([example]))
      except instances_lib.InstanceError as error:
        examples[index], problems[index] = None, str(error).split(': ', 1)[1]
    return predictions


def predict_files(model: model_lib.ServedModel, paths: Sequence[str], instances_format: str,
                  output_dir: str) -> BatchResult:
  tf.io.gfile.makedirs(output_dir)
  predicted = failed = 0
  with tf.io.gfile.GFile(f'{output_dir}/{RESULTS}', 'w') as results, \
      tf.io.gfile.GFile(f'{output_dir}/{ERRORS}', 'w') as errors:
    # TensorFlow creates a file on its first write: both files exist even when empty.
    results.write('')
    errors.write('')
    chunk: List[Tuple[Any, Any]] = []

    def flush() -> None:
      nonlocal predicted, failed
      rows = [(shown, item) for shown, item in chunk]
      ready = [item for _, item in rows if not isinstance(item, str)]
      examples, problems = instances_lib.to_examples(ready, model.dataset)
      outputs = iter(_predict(model, examples, problems))
      answers = iter(zip(examples, problems))
      for shown, item in rows:
        example, problem = (None, item) if isinstance(item, str) else next(answers)
        if example is None:
          errors.write(json.dumps({'instance': shown, 'error': {
              'status': _INVALID_ARGUMENT, 'message': problem}}) + '\n')
          failed += 1
        else:
          results.write(json.dumps({'instance': shown, 'prediction': next(outputs)}) + '\n')
          predicted += 1
      chunk.clear()

    for shown, item in read(paths, instances_format):
      chunk.append((shown, item))
      if len(chunk) == _CHUNK:
        flush()
    flush()
  return BatchResult(predicted, failed)
