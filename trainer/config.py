"""Typed training settings. Pure dataclasses (no TensorFlow import), so the pipeline and the
command line can build and validate them cheaply; they reach `run_fn` through custom_config."""

import dataclasses
import json
from typing import Any, Dict, Tuple


@dataclasses.dataclass(frozen=True)
class ModelConfig:
  hidden_units: Tuple[int, ...] = (128, 64, 32)
  embedding_dim: int = 8
  dropout: float = 0.1
  learning_rate: float = 0.003

  def __post_init__(self):
    if not self.hidden_units or any(units < 1 for units in self.hidden_units):
      raise ValueError(f'hidden_units must be positive layer sizes, got {self.hidden_units!r}')
    if not 0.0 <= self.dropout < 1.0:
      raise ValueError(f'dropout must be in [0, 1), got {self.dropout!r}')


@dataclasses.dataclass(frozen=True)
class TrainConfig:
  """Trainer settings carried in the component's custom_config."""
  batch_size: int = 128
  eval_batch_size: int = 256
  cycle_length: int = 4
  cache_budget_bytes: int = 1 << 30
  model: ModelConfig = ModelConfig()

  def __post_init__(self):
    for name in ('batch_size', 'eval_batch_size', 'cycle_length'):
      if getattr(self, name) < 1:
        raise ValueError(f'{name} must be >= 1, got {getattr(self, name)!r}')

  @classmethod
  def from_custom_config(cls, custom_config: Dict[str, Any]) -> 'TrainConfig':
    values = dict((custom_config or {}).get('train_config', {}))
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
    return {'train_config': json.loads(json.dumps(dataclasses.asdict(self)))}
