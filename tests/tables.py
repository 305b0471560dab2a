"""Generated tables trained on as the Trainer trains, without a pipeline run: the rows written to
a CSV, `dataset init`'s definition and schema of it, Transform's analysis of the training rows
(tests/trees.py: every third row to eval, as the pipeline's 2:1 split), then trainer/task.py's
train and save."""

import csv
import dataclasses
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft

import datadefs
from datadefs import init
from datadefs.definition import Dataset
from tests import trees as tree_helpers
from serving import model as served_model
from trainer import decision
from trainer import signatures
from trainer import sizing
from trainer import strategy as strategy_lib
from trainer import task
from trainer.config import TrainConfig


@dataclasses.dataclass
class Table:
  """A generated table, defined by `dataset init` and transformed."""
  dataset: Dataset
  rows: List[Dict[str, str]]
  output: tft.TFTransformOutput
  out: Path

  @property
  def train_files(self) -> List[str]:
    return [str(self.out / 'train' / '*.gz')]

  @property
  def eval_files(self) -> List[str]:
    return [str(self.out / 'eval' / '*.gz')]

  @property
  def eval_rows(self) -> List[Dict[str, str]]:
    return [row for index, row in enumerate(self.rows) if index % 3 == 2]

  @property
  def train_rows(self) -> List[Dict[str, str]]:
    return [row for index, row in enumerate(self.rows) if index % 3 != 2]


def make(columns: Dict[str, Sequence], label: str, out: Path, task_name: Optional[str] = None
         ) -> Table:
  """Writes the columns (equal lengths) as out/table.csv, runs `dataset init` on it (into
  out/definition) and Transform (tests/trees.py) on its rows."""
  names = list(columns)
  count = len(columns[names[0]])
  rows = [{name: _text(columns[name][index]) for name in names} for index in range(count)]
  out.mkdir(parents=True, exist_ok=True)
  csv_path = out / 'table.csv'
  with csv_path.open('w', newline='') as file:
    writer = csv.DictWriter(file, names)
    writer.writeheader()
    writer.writerows(rows)
  init.init_dataset(str(csv_path), label, str(out / 'definition'), task=task_name,
                    name='generated', say=lambda _: None)
  dataset = datadefs.load(str(out / 'definition'))
  output = tree_helpers.transform(tree_helpers.labelled_examples(rows, dataset), out, dataset)
  return Table(dataset, rows, output, out)


def _text(value) -> str:
  if isinstance(value, (float, np.floating)):
    return f'{float(value):.6g}'
  return str(value)


def train(table: Table, config: TrainConfig, train_steps: Optional[int] = None,
          seed: int = 0) -> tf.keras.Model:
  """Trains as run_fn trains the network (default strategy); the steps and the sizes left to
  the row count are chosen from it, as run_fn chooses them, when train_steps is None."""
  tf.keras.utils.set_random_seed(seed)
  if train_steps is None:
    config, train_steps = sizing.fit_to_rows(config, sizing.count_records(table.train_files))
  logs = table.out / 'logs'
  logs.mkdir(exist_ok=True)
  return task.train(strategy_lib.Distribution(tf.distribute.get_strategy(), 'default',
                                              strategy_lib.Cluster()),
                    config, table.dataset, train_files=table.train_files,
                    eval_files=table.eval_files,
                    decode=table.output.transformed_feature_spec(), train_steps=train_steps,
                    eval_steps=None, log_dir=str(logs))


def save(table: Table, model: tf.keras.Model, folder: Path,
         threshold: float = decision.NEUTRAL) -> Path:
  """Saves the model as run_fn does: serving signatures over raw tf.Examples, the definition."""
  task.save_model(strategy_lib.Distribution(tf.distribute.get_strategy(), 'default',
                                            strategy_lib.Cluster()),
                  model, str(folder),
                  signatures.serving_signatures(model, table.output, table.dataset, threshold))
  signatures.write_dataset_definition(str(folder), table.dataset)
  return folder


def served(folder: Path, table: Table, rows: Sequence[Dict[str, str]]) -> np.ndarray:
  """What the server (serving/model.py) answers for raw rows without their label, as JSON
  instances of column texts."""
  label = table.dataset.label.column
  model = served_model.load(str(folder))
  return np.reshape(np.asarray(model.predict(
      [{name: value for name, value in row.items() if name != label} for row in rows]),
      dtype=np.float64), -1)


def accuracy_of_majority(table: Table) -> float:
  """The naive baseline on the eval split: the training split's majority class, always."""
  label = table.dataset.label.column
  train = [row[label] for row in table.train_rows]
  majority = max(set(train), key=train.count)
  evals = [row[label] for row in table.eval_rows]
  return sum(value == majority for value in evals) / len(evals)
