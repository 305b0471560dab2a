"""A dataset, declared once: its columns and types, each feature's role, the label, the task,
the curated schema, the blessing threshold and the measured baseline ([baseline]). Everything
dataset-specific derives from it: the preprocessing_fn, the model's inputs and head, the
serving signatures, the CSV reader and pre-check, the label gate and the eval config.

A definition is a `dataset.toml` (see datadefs/taxi/dataset.toml). `load()` checks it and names
the bad field. It travels to Transform and the Trainer as a plain dict in their custom_config
(`to_dict`/`from_dict`), so a user's dataset folder needs no code in the serving image.
"""

import dataclasses
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from core.names import DATASET_KEY, KFP_NAME
from datadefs import baseline_scores
from datadefs import kinds
from datadefs import tasks
from datadefs.fields import DatasetError, Fields
from datadefs.images import definition as images
from datadefs.images.spec import ImageSpec
from datadefs.task_values import BaselineScores

# Column types of a tabular dataset, and the tf.Example list each becomes (int64, float, bytes).
TYPES = ('int', 'float', 'string')
ROLES = ('numeric', 'bucketized', 'vocabulary', 'integer_id', 'date', 'ignored')
_ROLE_OPTIONS = {'bucketized': {'buckets': 10}, 'vocabulary': {'top_k': 1000, 'oov': 10},
                 'integer_id': {'num_ids': None}}
# A date column's features (transform/dates.py), each with how many ids it takes (0: a number):
# the year as a number; month (1-12) and ISO day of week (1-7) as ids, 0 when missing; the hour
# (0-23) as ids 1-24 when the values carry a time (`hour = true`).
DATE_PARTS = {'year': 0, 'month': 13, 'weekday': 8}
HOUR_PART = {'hour': 25}


@dataclasses.dataclass(frozen=True)
class Column:
  """One CSV column: its type, and the role it plays as a feature."""
  name: str
  type: str
  role: str = 'ignored'
  buckets: int = 10       # bucketized: quantile buckets (ids 0..buckets-1).
  top_k: int = 1000       # vocabulary: most frequent values kept...
  oov: int = 10           # ...and hash buckets for the rest.
  num_ids: int = 0        # integer_id: values are ids 0..num_ids-1 (clipped into range).
  hour: bool = False      # date: the values carry a time of day, whose hour is a feature.

  @property
  def num_embedding_ids(self) -> int:
    """How many distinct ids the transformed feature takes (0 for numeric)."""
    return {'bucketized': self.buckets, 'vocabulary': self.top_k + self.oov,
            'integer_id': self.num_ids}.get(self.role, 0)

  def model_inputs(self) -> Dict[str, int]:
    """{transformed feature: how many ids it takes (0: a number)} made from this column."""
    if self.role == 'date':
      parts = {**DATE_PARTS, **(HOUR_PART if self.hour else {})}
      return {transformed_name(f'{self.name}_{part}'): ids for part, ids in parts.items()}
    return {transformed_name(self.name): self.num_embedding_ids}


# What an expression label does with a row missing one of its inputs: leave the row out (it
# has no label), or count the missing input as 0 (taxi: a missing tip is no big tip).
MISSING_INPUTS = ('drop', 'zero')


@dataclasses.dataclass(frozen=True)
class Label:
  """The label: `column`, or `expression` over columns (e.g. 'tips > 0.2 * fare').

  `column` is the raw column known only at training time: it is never a model input and
  serving requests leave it out. `classes` (multiclass): the label values in id order.
  `missing_inputs` (an expression only; one of MISSING_INPUTS): a row whose label column is
  missing has no label and is left out where examples are made (the ExampleGen), counted.
  """
  column: str
  expression: Optional[str] = None
  classes: Tuple[Any, ...] = ()
  missing_inputs: str = 'drop'

  @property
  def required_columns(self) -> Tuple[str, ...]:
    """The columns a row needs to have a label: without one of them the row is no example."""
    if not self.expression:
      return (self.column,)
    if self.missing_inputs == 'zero':
      return ()
    from datadefs import label_expression  # pylint: disable=import-outside-toplevel
    return tuple(sorted(label_expression.columns_of(self.expression)))


@dataclasses.dataclass(frozen=True)
class Dataset:
  name: str
  task: str  # a task kind (datadefs/tasks.py)
  columns: Tuple[Column, ...]
  label: Label
  # The bound on the task's blessing metric: an accuracy floor, a mean-absolute-error ceiling.
  blessing_threshold: float
  kind: str = 'tabular'  # a data kind (datadefs/kinds.py)
  schema_path: str = ''
  pipeline_name: str = ''
  # Cell texts that mean "missing" besides the empty cell (e.g. 'NA').
  missing_values: Tuple[str, ...] = ()
  # Where `make run` reads when DATA_ROOT is unset: a folder, 'package:<module>/<folder>', or
  # 'generated:<name>', written under the pipeline home at run time (datadefs/generated.py).
  default_data_root: str = ''
  default_input_pattern: Optional[str] = None
  # Training steps when TRAIN_STEPS is unset (0: chosen from the row count at run time).
  train_steps: int = 0
  # The model, by name: one of the data kind's models (datadefs/kinds.py); '' for its default.
  model: str = ''
  # The image kind's settings (datadefs/images/spec.py); None for other kinds.
  image: Optional[ImageSpec] = None
  # The naive baseline's and a default GBM's scores (datadefs/baseline_scores.py); None when
  # the definition has no [baseline] table.
  baseline: Optional[BaselineScores] = None

  @property
  def blessing_bound(self) -> float:
    """The bound the Evaluator blesses against: blessing_threshold, at least as strict as the
    naive baseline's score."""
    return baseline_scores.blessing_bound(self.task_kind, self.blessing_threshold,
                                          self.baseline)[0]

  @property
  def column_types(self) -> Dict[str, str]:
    return {column.name: column.type for column in self.columns}

  def features(self, *roles: str) -> List[Column]:
    """The model's input columns, in file order; only those of `roles` when given."""
    return [column for column in self.columns
            if column.role != 'ignored' and column.name != self.label.column and
            (not roles or column.role in roles)]

  def model_inputs(self) -> Dict[str, int]:
    """{transformed feature: how many ids it takes (0: a number)} of every feature column."""
    return {name: ids for column in self.features() for name, ids in column.model_inputs().items()}

  @property
  def label_key(self) -> str:
    return transformed_name(self.label.column)

  @property
  def task_kind(self) -> tasks.Task:
    return tasks.TASKS[self.task]

  @property
  def kind_info(self) -> kinds.DataKind:
    return kinds.KINDS[self.kind]

  @property
  def model_name(self) -> str:
    """The model to train: the definition's, else the data kind's default."""
    return self.model or self.kind_info.models[0]

  @property
  def num_outputs(self) -> int:
    """The model's outputs: one per class of a multiclass label, else one."""
    return self.task_kind.num_outputs(self.label.classes)

  def to_dict(self) -> Dict[str, Any]:
    """JSON-ready, for custom_config: what the components need. Not the schema's path, which
    is this machine's (the components get the schema as an artifact); from_dict(to_dict())
    is self without it."""
    values = dataclasses.asdict(self)
    del values['schema_path']
    return values

  def to_custom_config(self) -> Dict[str, Any]:
    """The part of a component's custom_config that carries the definition."""
    return {DATASET_KEY: self.to_dict()}

  @classmethod
  def from_custom_config(cls, custom_config: Optional[Mapping[str, Any]],
                         component: str) -> 'Dataset':
    """The definition in `component`'s custom_config (as to_custom_config puts it)."""
    if DATASET_KEY not in (custom_config or {}):
      raise ValueError(f'{component} custom_config has no {DATASET_KEY!r}: build the '
                       'pipeline with pipeline/graph.create_pipeline, which puts the definition '
                       'there')
    return cls.from_dict(custom_config[DATASET_KEY])

  @classmethod
  def from_dict(cls, values: Mapping[str, Any]) -> 'Dataset':
    values = dict(values)
    values['columns'] = tuple(Column(**column) for column in values['columns'])
    label = dict(values['label'])
    label['classes'] = tuple(label.get('classes') or ())
    values['label'] = Label(**label)
    values['missing_values'] = tuple(values.get('missing_values') or ())
    if values.get('image') is not None:
      values['image'] = ImageSpec.from_dict(values['image'])
    if values.get('baseline') is not None:
      values['baseline'] = BaselineScores(**values['baseline'])
    return cls(**values)


def transformed_name(key: str) -> str:
  """The name Transform gives the feature made from raw column `key`."""
  return key + '_xf'


def parse(values: Mapping[str, Any], source: str, directory: Optional[Path] = None) -> Dataset:
  """A Dataset from a definition's parsed TOML; DatasetError names `source` and the field."""
  fields = Fields(values, source)
  name = fields.text('name')
  if not KFP_NAME.match(name):
    raise fields.error('name', f'{name!r} must be lower-case letters, digits and dashes')
  task = fields.choice('task', tasks.TASK_NAMES)
  kind = fields.choice('kind', tuple(kinds.KINDS), default='tabular')
  image = None
  if kind == 'image':  # Its columns are the ExampleGen's features; its label, the class folder.
    columns = tuple(Column(name, kind_of) for name, kind_of in images.RAW_TYPES.items())
    column, classes = images.parse_label(fields, task)
    label, image = Label(column=column, classes=classes), images.parse_image(fields)
  else:
    columns = tuple(_column(fields, column_name, spec)
                    for column_name, spec in fields.table('columns').items())
    label = _label(fields, fields.table('label'), task,
                   {column.name: column.type for column in columns})
  schema = fields.text('schema', default='schema.pbtxt')
  schema_path = str((directory / schema) if directory else Path(schema))
  if directory and not Path(schema_path).is_file():
    raise fields.error('schema', f'file {schema_path} does not exist')
  threshold = fields.number('blessing_threshold')
  problem = tasks.TASKS[task].check_threshold(threshold)
  if problem:
    raise fields.error('blessing_threshold', problem)
  dataset = Dataset(
      name=name, task=task, kind=kind, columns=columns, label=label,
      blessing_threshold=threshold,
      schema_path=schema_path, pipeline_name=fields.text('pipeline_name', default=name),
      missing_values=tuple(fields.list_of('missing_values', str, default=[])),
      default_data_root=fields.text('default_data_root', default=''),
      default_input_pattern=fields.text('default_input_pattern', default='') or None,
      train_steps=int(fields.number('train_steps', default=0)),
      model=fields.choice('model', ('',) + kinds.KINDS[kind].models, default=''),
      image=image, baseline=_baseline(fields, tasks.TASKS[task]))
  if not KFP_NAME.match(dataset.pipeline_name):
    raise fields.error('pipeline_name', f'{dataset.pipeline_name!r} must be lower-case '
                       'letters, digits and dashes (a KFP pipeline name)')
  if image is None and not dataset.features():
    raise fields.error('columns', 'no column has a role other than "ignored": the model '
                       'would have no input')
  fields.no_unknown()
  return dataset


def _baseline(fields: 'Fields', task: tasks.Task) -> Optional[BaselineScores]:
  if baseline_scores.TABLE not in fields.values:
    return None
  return baseline_scores.parse(fields.table(baseline_scores.TABLE), fields.source, task)


def _column(fields: 'Fields', name: str, spec: Any) -> Column:
  where = f'columns.{name}'
  if isinstance(spec, str):
    spec = {'type': spec}
  if not isinstance(spec, Mapping):
    raise fields.error(where, f'must be a type ({", ".join(TYPES)}) or a table such as '
                       '{ type = "float", role = "numeric" }, got ' + repr(spec))
  column = Fields(spec, fields.source, prefix=where + '.')
  kind = column.choice('type', TYPES)
  role = column.choice('role', ROLES, default='ignored')
  options = {}
  for option, default in _ROLE_OPTIONS.get(role, {}).items():
    value = int(column.number(option, default=default))
    if value < 1:
      raise column.error(option, f'must be >= 1, got {value}')
    options[option] = value
  if role in ('numeric', 'bucketized') and kind == 'string':
    raise column.error('role', f'{role!r} needs numbers; a string column can be "vocabulary"')
  if role == 'integer_id' and kind != 'int':
    raise column.error('role', f'"integer_id" needs an int column, this one is {kind!r}')
  if role == 'date':
    if kind == 'float':
      raise column.error('role', '"date" reads dates as text (year first: 2024-05-31, '
                         '2024/05/31 13:45) or whole seconds since 1970 (int)')
    options['hour'] = column.boolean('hour', default=False)
  column.no_unknown()
  return Column(name=name, type=kind, role=role, **options)


def _label(fields: 'Fields', spec: Mapping[str, Any], task: str,
           column_types: Mapping[str, str]) -> Label:
  label = Fields(spec, fields.source, prefix='label.')
  column = label.text('column')
  if column not in column_types:
    raise label.error('column', f'{column!r} is not one of the columns')
  expression = label.text('expression', default='') or None
  if expression:
    from datadefs import label_expression  # pylint: disable=import-outside-toplevel
    try:
      label_expression.check(expression, column_types)
    except ValueError as error:
      raise label.error('expression', str(error)) from None
  classes = tuple(label.list_of('classes', (str, int), default=[]))
  task_kind = tasks.TASKS[task]
  problem = task_kind.check_classes(classes)
  if problem:
    raise label.error('classes', problem)
  if len(set(map(str, classes))) != len(classes):
    raise label.error('classes', f'lists a class twice: {list(classes)}')
  problem = task_kind.check_label_column(column, column_types[column], bool(expression))
  if problem:
    raise label.error('column', problem)
  missing_inputs = label.choice('missing_inputs', MISSING_INPUTS, default='drop')
  if missing_inputs != 'drop' and not expression:
    raise label.error('missing_inputs', f'applies to an expression; a row whose label column '
                      f'{column!r} is empty has no label and is left out of training and '
                      'evaluation (counted)')
  label.no_unknown()
  return Label(column=column, expression=expression, classes=classes,
               missing_inputs=missing_inputs)
