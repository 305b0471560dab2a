"""The Tuner's `tuner_fn` (referenced as `trainer.tuning.tuner_fn`): a small random search over
the learning rate and the hidden layers, each trial trained and evaluated on Transform's output;
the Trainer then trains with the best (`apply_hyperparameters`).

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
from trainer import sizing
from trainer.config import ModelConfig, TrainConfig

LEARNING_RATES = (1e-3, 3e-3, 1e-2)
HIDDEN_UNITS = ('128,64,32', '64,32', '256,128')


def apply_hyperparameters(config: ModelConfig, values: Mapping[str, Any]) -> ModelConfig:
  """`config` with the tuned values (KerasTuner's HyperParameters values) applied."""
  changes = {}
  if 'learning_rate' in values:
    changes['learning_rate'] = float(values['learning_rate'])
  if 'hidden_units' in values:
    changes['hidden_units'] = tuple(int(units) for units in str(values['hidden_units']).split(','))
  return dataclasses.replace(config, **changes)


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
  decode = kinds.decoder(dataset, tft.TFTransformOutput(
      fn_args.transform_graph_path).transformed_feature_spec())
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
    hp.Choice('learning_rate', LEARNING_RATES)
    hp.Choice('hidden_units', HIDDEN_UNITS)
    model = model_lib.build(dataset, apply_hyperparameters(config.model, hp.values), moments)
    history = model.fit(input_pipeline.make_dataset(train_input, decode), epochs=1,
                        steps_per_epoch=steps,
                        validation_data=input_pipeline.make_dataset(eval_input, decode),
                        validation_steps=fn_args.eval_steps, verbose=2)
    return {goal.name: history.history[goal.name][-1]}

  search = _RandomSearch(build_and_fit, objective=goal, max_trials=trials,
                         directory=fn_args.working_dir, project_name=dataset.name, overwrite=True)
  return TunerFnResult(tuner=search, fit_kwargs={})
