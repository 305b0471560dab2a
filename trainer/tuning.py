"""The Tuner's `tuner_fn` (referenced as `trainer.tuning.tuner_fn`): a small random search over
the chosen model family's settings, each trial trained and evaluated on Transform's output; the
Trainer then trains with the best (`apply_hyperparameters`). The network's: the learning rate
and the hidden layers; the trees' (model = "gradient_boosted_trees", trainer/trees.py): how many
trees at most, how deep, their shrinkage and the fewest rows in a leaf.

KerasTuner 1.4 builds Keras 3 models when Keras 3 is installed (it is, beside tf_keras), and
refuses the tf_keras model this project trains; so the search overrides `run_trial` and builds,
fits and scores each trial itself, which KerasTuner supports.
"""

import dataclasses
from typing import Any, Dict, Mapping

import keras_tuner
import tensorflow_transform as tft
from tfx.components.trainer.fn_args_utils import FnArgs
from tfx.components.tuner.component import TunerFnResult

from core.names import TUNER_TRIALS_KEY
from datadefs.definition import Dataset
from trainer import input_pipeline
from trainer import kinds
from trainer import model as model_lib
from trainer import raw_input
from trainer import sizing
from trainer.config import ModelConfig, TrainConfig

LEARNING_RATES = (1e-3, 3e-3, 1e-2)
HIDDEN_UNITS = ('128,64,32', '64,32', '256,128')
# The trees' choices, around TF-DF's defaults (300 trees, depth 6, shrinkage 0.1, 5 rows).
NUM_TREES = (100, 300, 600)
MAX_DEPTHS = (3, 4, 6, 8)
SHRINKAGES = (0.05, 0.1, 0.2)
MIN_EXAMPLES = (2, 5, 10, 20)
# ModelConfig field -> what a tuned value is read as.
_TREE_VALUES = {'num_trees': int, 'max_depth': int, 'shrinkage': float, 'min_examples': int}


def apply_hyperparameters(config: ModelConfig, values: Mapping[str, Any]) -> ModelConfig:
  """`config` with the tuned values (KerasTuner's HyperParameters values) applied."""
  changes = {}
  if 'learning_rate' in values:
    changes['learning_rate'] = float(values['learning_rate'])
  if 'hidden_units' in values:
    changes['hidden_units'] = tuple(int(units) for units in str(values['hidden_units']).split(','))
  changes.update({name: kind(values[name]) for name, kind in _TREE_VALUES.items()
                  if name in values})
  return dataclasses.replace(config, **changes)


def search_space(hp: keras_tuner.HyperParameters, model_name: str) -> None:
  """Declares the family's choices in `hp` (the trees' for trees, else the network's)."""
  if model_name == model_lib.TREES:
    hp.Choice('num_trees', NUM_TREES)
    hp.Choice('max_depth', MAX_DEPTHS)
    hp.Choice('shrinkage', SHRINKAGES)
    hp.Choice('min_examples', MIN_EXAMPLES)
  else:
    hp.Choice('learning_rate', LEARNING_RATES)
    hp.Choice('hidden_units', HIDDEN_UNITS)


def objective(dataset: Dataset) -> keras_tuner.Objective:
  """The validation metric trials are ranked by: the one the blessing threshold applies to."""
  task = dataset.task_kind
  return keras_tuner.Objective(f'val_{task.keras_metric}', task.objective_direction)


class _RandomSearch(keras_tuner.RandomSearch):
  def __init__(self, build_and_fit, **kwargs):
    super().__init__(**kwargs)
    self._build_and_fit = build_and_fit

  def run_trial(self, trial, *args, **kwargs) -> Dict[str, float]:
    return self._build_and_fit(trial.hyperparameters)


def tuner_fn(fn_args: FnArgs) -> TunerFnResult:
  config = TrainConfig.from_custom_config(fn_args.custom_config)
  dataset = Dataset.from_custom_config(fn_args.custom_config, 'Tuner')
  trials = int((fn_args.custom_config or {}).get(TUNER_TRIALS_KEY, 3))
  decode = raw_input.input_decoder(dataset, tft.TFTransformOutput(fn_args.transform_graph_path))
  steps = fn_args.train_steps
  if steps is None:
    config, steps = sizing.fit_to_rows(config, sizing.count_records(fn_args.train_files))
  train_input = input_pipeline.input_config(config, dataset, fn_args.train_files,
                                            config.batch_size, True)
  eval_input = input_pipeline.eval_input_config(config, dataset, fn_args.eval_files,
                                                fn_args.eval_steps)
  moments = (sizing.label_moments(train_input, decode,
                                  dataset.num_outputs if dataset.num_outputs > 1 else 0)
             if dataset.task_kind.uses_label_moments else None)
  goal = objective(dataset)

  def build_and_fit(hp: keras_tuner.HyperParameters) -> Dict[str, float]:
    search_space(hp, dataset.model_name)
    if dataset.model_name in model_lib.ONE_PASS_MODELS:
      return _fit_trees(dataclasses.replace(
          config, model=apply_hyperparameters(config.model, hp.values)), dataset, fn_args,
                        decode, goal.name)
    model = model_lib.build(dataset, apply_hyperparameters(config.model, hp.values), moments)
    history = model.fit(input_pipeline.make_dataset(train_input, decode), epochs=1,
                        steps_per_epoch=steps,
                        validation_data=input_pipeline.make_dataset(eval_input, decode),
                        validation_steps=fn_args.eval_steps, verbose=2)
    return {goal.name: history.history[goal.name][-1]}

  search = _RandomSearch(build_and_fit, objective=goal, max_trials=trials,
                         directory=fn_args.working_dir, project_name=dataset.name, overwrite=True)
  return TunerFnResult(tuner=search, fit_kwargs={})


def _fit_trees(config: TrainConfig, dataset: Dataset, fn_args: FnArgs, decode: kinds.Decoder,
               metric: str) -> Dict[str, float]:
  """A trial of trees: grown on the training split, scored on the eval split (the steps do not
  apply: trees grow in one pass)."""
  from trainer import trees  # pylint: disable=import-outside-toplevel; loads TF-DF's ops
  model = trees.build(dataset, config.model)
  trees.fit(model, config, dataset, train_files=fn_args.train_files, decode=decode)
  metrics = trees.evaluate(model, config, dataset, eval_files=fn_args.eval_files, decode=decode,
                           eval_steps=fn_args.eval_steps)
  return {metric: metrics[metric]}
