"""`python -m pipeline dataset init --csv FILE --label COLUMN [--task T] --out DIR`: a dataset
definition and a curated schema from a sample of a CSV, for the user to review.

The definition (dataset.toml) holds what datadefs/tabular/inference.py decided, each with its reason as
a comment; the schema is TFDV's inference over the sample read exactly as ExampleGen will read
the data (datadefs/tabular/csv_files.py), then curated: categorical domains with unseen-value
and drift thresholds, at least one example per split, the label absent at serving time. Its
[baseline] table holds the naive baseline's and a default gradient-boosted model's scores on the
sample's eval part (datadefs/tabular/baseline.py).
"""

import os
import re
import tempfile
from pathlib import Path
from typing import Callable, List, Optional

from datadefs import baseline_scores
from datadefs.tabular import baseline, inference
from datadefs.tabular import model_choice

HEADER = '''# Dataset definition written by `python -m pipeline dataset init` from {csv}
# ({rows} sample rows). Review it: each column's role says why it was chosen.
# Roles: numeric (z-score), bucketized (quantiles), vocabulary (top values -> ids),
# integer_id (the value is the id), date (year; month, day of week and hour as ids), ignored.
'''


def init_dataset(csv_path: str, label: str, out_dir: str, task: Optional[str] = None,
                 name: Optional[str] = None, say: Callable[[str], None] = print) -> Path:
  """Writes out_dir/dataset.toml and out_dir/schema.pbtxt; returns the definition's path."""
  out = Path(out_dir)
  if (out / 'dataset.toml').exists():
    raise FileExistsError(f'{out / "dataset.toml"} exists: init writes a new definition; '
                          'choose another --out, or delete it first')
  header, rows = inference.read_sample(csv_path)
  if label not in header:
    raise ValueError(f'{csv_path}: the label column {label!r} is missing: the header has '
                     f'{header}; give --label one of them')
  guess = inference.guess(header, rows, label, task)
  name = name or _name_of(out)
  out.mkdir(parents=True, exist_ok=True)
  model, why = model_choice.propose(
      [column.role for column in guess.columns if column.name != label],
      guess.rows - guess.rows_without_label, sample_is_whole=guess.rows < inference.SAMPLE_ROWS)
  toml = model_choice.with_model_line(_toml(guess, label, name, csv_path), model, why)
  (out / 'schema.pbtxt').write_text(_schema_text(csv_path, guess, label))
  (out / 'dataset.toml').write_text(toml)
  for line in _decisions(guess, label):
    say(line)
  say(f'model: {model} ({why})')
  import datadefs  # pylint: disable=import-outside-toplevel; checks what was written
  _add_baseline(datadefs.load(str(out)), out / 'dataset.toml', csv_path, guess.rows, say)
  datadefs.load(str(out))
  say(f'wrote {out / "dataset.toml"} and {out / "schema.pbtxt"}; review them, then: '
      f'make run DATASET={out} DATA_ROOT={Path(csv_path).resolve().parent}')
  return out / 'dataset.toml'


def _add_baseline(dataset, definition: Path, csv_path: str, rows: int,
                  say: Callable[[str], None]) -> None:
  """Measures the naive baseline and a default GBM on the sample, split by the pipeline's rule,
  into the definition's [baseline] table (datadefs/tabular/baseline.py)."""
  try:
    scores = baseline.measure(dataset, csv_path, max_rows=rows)
  except baseline.BaselineError as error:
    say(f'baseline: not measured: {error}')
    return
  baseline_scores.write_into(definition, scores)
  say(baseline_scores.describe(scores))
  threshold = halfway_threshold(scores, dataset.task_kind.higher_is_better)
  if threshold is not None:
    text = definition.read_text()
    definition.write_text(re.sub(
        r'^blessing_threshold = .*$',
        f'blessing_threshold = {threshold:.6g}  # halfway from the naive baseline to the '
        'default gradient-boosted model', text, count=1, flags=re.M))
    say(f'blessing threshold, set from the baseline: {threshold:.4g}, halfway from the naive '
        f'baseline ({scores.naive:.4g}) to the default gradient-boosted model '
        f'({scores.gbm:.4g}) on the sample')


def halfway_threshold(scores, higher_is_better: bool) -> Optional[float]:
  """The blessing threshold when the default GBM beats the naive baseline on the sample: half
  of its gain. A fixed share of the naive score misjudges tables where every model gains little
  (a heavy-tailed count: a model better than the GBM was refused) or much. None otherwise."""
  if scores.gbm is None or (scores.gbm - scores.naive) * (1 if higher_is_better else -1) <= 0:
    return None
  return scores.naive + (scores.gbm - scores.naive) / 2


def _name_of(out: Path) -> str:
  name = ''.join(c if c.isalnum() else '-' for c in out.resolve().name.lower()).strip('-')
  return name or 'dataset'


def _decisions(guess: inference.Guess, label: str) -> List[str]:
  lines = [f'task: {guess.task} (label {label!r}'
           f'{", classes " + str(list(guess.classes)) if guess.classes else ""})',
           f'blessing threshold: {guess.threshold:.4g}, against a naive baseline measured on '
           f'the sample: {guess.baseline_text}']
  if guess.missing_values:
    lines.append(f'missing values: empty cells and {list(guess.missing_values)}')
  if guess.rows_without_label:
    lines.append(f'rows without a label: {guess.rows_without_label} of {guess.rows} sample rows '
                 f'have no {label!r}; such rows are left out of training and evaluation, and '
                 'each run counts them')
  width = max(len(column.name) for column in guess.columns)
  lines += [f'  {column.name:<{width}}  {column.type:<6}  {column.role:<10}  {column.reason}'
            for column in guess.columns]
  return lines


def _toml(guess: inference.Guess, label: str, name: str, csv_path: str) -> str:
  lines = [HEADER.format(csv=csv_path, rows=guess.rows),
           f'name = "{name}"', f'task = "{guess.task}"', 'schema = "schema.pbtxt"',
           f'# Naive baseline on the sample: {guess.baseline_text}.',
           f'blessing_threshold = {guess.threshold:.6g}']
  if guess.missing_values:
    lines.append('missing_values = [' + ', '.join(f'"{text}"' for text in guess.missing_values) +
                 ']')
  lines += ['', '[label]', f'column = "{label}"']
  if guess.classes:
    lines.append('classes = [' + ', '.join(
        str(value) if isinstance(value, int) else _quoted(value) for value in guess.classes) +
        ']')
  lines += ['', '[columns]']
  for column in guess.columns:
    if column.name == label:
      lines.append(f'{_key(column.name)} = {{ type = "{column.type}" }}  # the label')
      continue
    options = ''.join(f', {key} = {_toml_value(value)}' for key, value in column.options.items())
    lines.append(f'{_key(column.name)} = {{ type = "{column.type}", role = "{column.role}"'
                 f'{options} }}  # {column.reason}')
  return '\n'.join(lines) + '\n'


def _toml_value(value) -> str:
  return ('true' if value else 'false') if isinstance(value, bool) else str(value)


def _key(name: str) -> str:
  return name if name.replace('_', '').replace('-', '').isalnum() else _quoted(name)


def _quoted(text: str) -> str:
  return '"' + text.replace('\\', '\\\\').replace('"', '\\"') + '"'


def _schema_text(csv_path: str, guess: inference.Guess, label: str) -> str:
  os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
  # pylint: disable=import-outside-toplevel; TensorFlow only once the sample is understood
  import tensorflow as tf
  import tensorflow_data_validation as tfdv
  from google.protobuf import text_format
  from datadefs.tabular import csv_files, examples
  column_types = {column.name: column.type for column in guess.columns}
  with tempfile.TemporaryDirectory() as folder:
    records = os.path.join(folder, 'sample.tfrecord')
    with tf.io.TFRecordWriter(records) as writer:
      written = 0
      for batch in csv_files.read_batches(csv_path, column_types,
                                          missing_values=guess.missing_values):
        for example in examples.serialize_examples(batch, column_types):
          writer.write(example)
        written += batch.num_rows
        if written >= guess.rows:
          break
    stats = tfdv.generate_statistics_from_tfrecord(records)
  schema = tfdv.infer_schema(stats)
  _curate(schema, guess, label)
  return ('# Curated schema written by `python -m pipeline dataset init`: TFDV inference over '
          'the sample,\n# then categorical domains with unseen-value (min_domain_mass) and '
          'drift (infinity_norm)\n# thresholds, one example per split at least, the label '
          'absent at serving time.\n# Edit deliberately: every change here changes what data '
          'is accepted.\n' + text_format.MessageToString(schema))


def _curate(schema, guess: inference.Guess, label: str) -> None:
  roles = {column.name: column.role for column in guess.columns}
  domains = {domain.name: domain for domain in schema.string_domain}
  for feature in schema.feature:
    if not feature.HasField('shape'):
      # Missing in some sample rows (so read as a sparse value): allow any share missing.
      feature.presence.min_fraction = 0.0
      feature.presence.min_count = 0
    if feature.name == label:
      feature.not_in_environment.append('SERVING')
      if guess.task == 'multiclass' and feature.HasField('domain'):
        feature.distribution_constraints.min_domain_mass = 1.0  # An unknown class is refused.
      continue
    if feature.HasField('domain') and feature.domain in domains:
      if roles.get(feature.name) == 'vocabulary':
        # Up to 10% of values may be new (they get out-of-vocabulary ids); drift between
        # batches is the largest change of a category's share.
        feature.distribution_constraints.min_domain_mass = 0.9
        feature.drift_comparator.infinity_norm.threshold = 0.25
      else:
        feature.ClearField('domain')  # Not a feature: any text is accepted.
  kept = {feature.domain for feature in schema.feature if feature.HasField('domain')}
  for index in reversed(range(len(schema.string_domain))):
    if schema.string_domain[index].name not in kept:
      del schema.string_domain[index]
  schema.dataset_constraints.min_examples_count = 1
  schema.default_environment.extend(['TRAINING', 'SERVING'])
