"""Typed training settings. Pure dataclasses (no TensorFlow import), so the pipeline and the
command line can build and validate them cheaply; they reach `run_fn` through custom_config."""

import dataclasses
import json
from typing import Any, Dict, Tuple

from core.names import STRATEGIES, TRAIN_CONFIG_KEY

# What to do when the strategy asks for a TPU or GPUs the machine does not have.
ON_MISSING_ACCELERATOR = ('error', 'fallback')


def check_at_least(config: Any, minimum: int, names: Tuple[str, ...]) -> None:
  """Raises ValueError naming the first of `names` (fields of `config`) below `minimum`."""
  for name in names:
    if getattr(config, name) < minimum:
      raise ValueError(f'{name} must be >= {minimum}, got {getattr(config, name)!r}')


# The hidden layers when neither the configuration nor the training row count says
# (trainer/sizing.py sizes them from the rows when it counts them).
DEFAULT_HIDDEN_UNITS = (128, 64, 32)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
  """Hyperparameters of every model family: the network's (`mlp`), then the trees'
  (`gradient_boosted_trees`, trainer/trees.py); each family reads its own."""
  # () : sized from the training row count (trainer/sizing.py), else DEFAULT_HIDDEN_UNITS.
  hidden_units: Tuple[int, ...] = ()
  embedding_dim: int = 8
  dropout: float = 0.1
  learning_rate: float = 0.003
  # L2 penalty on the hidden layers' and embeddings' weights (-1: from the training row count,
  # trainer/sizing.py; 0 when the rows are not counted).
  l2: float = -1.0
  # Gradient-boosted trees: at most this many trees (TF-DF stops earlier when the loss on the
  # slice of the training split it holds out stops improving), each at most this deep, each
  # tree's contribution shrunk by this factor; a leaf holds at least min_examples rows.
  # TF-DF's own defaults.
  num_trees: int = 300
  max_depth: int = 6
  shrinkage: float = 0.1
  min_examples: int = 5

  def __post_init__(self):
    if any(units < 1 for units in self.hidden_units):
      raise ValueError(f'hidden_units must be positive layer sizes, got {self.hidden_units!r}')
    if not (self.l2 >= 0.0 or self.l2 == -1.0):
      raise ValueError(f'l2 must be >= 0 (or -1: from the row count), got {self.l2!r}')
    if self.embedding_dim < 1:
      raise ValueError(f'embedding_dim must be >= 1, got {self.embedding_dim!r}')
    if not 0.0 <= self.dropout < 1.0:
      raise ValueError(f'dropout must be in [0, 1), got {self.dropout!r}')
    if not self.learning_rate > 0.0:
      raise ValueError(f'learning_rate must be > 0, got {self.learning_rate!r}')
    check_at_least(self, 1, ('num_trees', 'max_depth', 'min_examples'))
    if not 0.0 < self.shrinkage <= 1.0:
      raise ValueError(f'shrinkage must be in (0, 1], got {self.shrinkage!r}')


@dataclasses.dataclass(frozen=True)
class TrainConfig:
  """Trainer settings carried in the component's custom_config.

  Batch sizes are global: each step splits them evenly over the replicas of the distribution
  strategy, so they must be multiples of the replica count (checked when training starts).
  """
  batch_size: int = 128
  eval_batch_size: int = 256
  # Shards the reader interleaves at once (TFRecordDataset readers in flight); Transform
  # writes ExampleFilesConfig.num_shards files per split (core/example_files.py).
  cycle_length: int = 4
  cache_budget_bytes: int = 1 << 30
  # One of STRATEGIES. 'auto': a TPU if one resolves, else several workers in TF_CONFIG, else
  # several GPUs, else the default strategy.
  strategy: str = 'auto'
  # One of ON_MISSING_ACCELERATOR: fail, or log and train with the default strategy, when
  # 'tpu' or 'mirrored' finds no TPU or no GPU.
  on_missing_accelerator: str = 'error'
  # TPUClusterResolver's `tpu`: '' resolves the Cloud TPU from the environment; 'local' on a
  # TPU VM.
  tpu_name: str = ''
  # Input monitor (trainer/input_monitor.py): warn when more than this share of step time
  # waits for data; calibration steps measure the model's compute time (0 turns it off).
  input_bound_threshold: float = 0.2
  monitor_calibration_steps: int = 20
  # TF Profiler trace of this many training steps from profile_start_step (0: no trace).
  profile_steps: int = 0
  profile_start_step: int = 10
  # The in-training evaluations (the run report's eval curve; the Tuner's trials) read at most
  # this many examples of the eval split, the same ones each time (0: the whole split). The
  # Evaluator computes the blessing's metrics on the whole split. At 1.5M rows, five passes
  # over the 496k-row eval split took 25 s of the Trainer's 36 s; a point over 50k examples
  # has a standard error of about 0.0015 in accuracy. An EvalArgs num_steps set in the
  # pipeline wins.
  max_eval_examples: int = 50_000
  # One in `holdout_buckets` training examples (by a hash of the example: the same ones every
  # pass and every run) is held out of training as the validation slice that training stops
  # on and keeps its best weights by (trainer/validation.py); 0 holds none out. The eval
  # split is never read for it.
  holdout_buckets: int = 10
  # Validation checks without improvement before training stops.
  patience: int = 5
  # Training batches run forward after training to re-estimate BatchNorm's moving statistics
  # at the final weights (trainer/batch_norm.py; models without BatchNorm skip it); 0: none.
  batch_norm_steps: int = 50
  model: ModelConfig = ModelConfig()

  def __post_init__(self):
    check_at_least(self, 1, ('batch_size', 'eval_batch_size', 'cycle_length'))
    check_at_least(self, 0, ('cache_budget_bytes', 'monitor_calibration_steps', 'profile_steps',
                             'profile_start_step', 'max_eval_examples', 'holdout_buckets',
                             'batch_norm_steps'))
    check_at_least(self, 1, ('patience',))
    if self.holdout_buckets == 1:
      raise ValueError('holdout_buckets 1 would hold out every training example: use 0 (none) '
                       'or >= 2 (one in that many)')
    if self.strategy not in STRATEGIES:
      raise ValueError(f'strategy must be one of {STRATEGIES}, got {self.strategy!r}')
    if self.on_missing_accelerator not in ON_MISSING_ACCELERATOR:
      raise ValueError(f'on_missing_accelerator must be one of {ON_MISSING_ACCELERATOR}, '
                       f'got {self.on_missing_accelerator!r}')
    if not 0.0 < self.input_bound_threshold <= 1.0:
      raise ValueError(
          f'input_bound_threshold must be in (0, 1], got {self.input_bound_threshold!r}')

  @classmethod
  def from_custom_config(cls, custom_config: Dict[str, Any]) -> 'TrainConfig':
    values = dict((custom_config or {}).get(TRAIN_CONFIG_KEY, {}))
    unknown = set(values) - {field.name for field in dataclasses.fields(cls)}
    if unknown:
      raise ValueError(f'unknown train_config keys {sorted(unknown)}')
    if 'model' in values:
      model_values = dict(values['model'])
      if 'hidden_units' in model_values:
        model_values['hidden_units'] = tuple(model_values['hidden_units'])
      values['model'] = ModelConfig(**model_values)
    return cls(**values)

  def to_custom_config(self) -> Dict[str, Any]:
    return {TRAIN_CONFIG_KEY: json.loads(json.dumps(dataclasses.asdict(self)))}
