"""GeneratorExampleGen: a TFX component reading a Keras Sequence or generator by import path."""

from typing import Any, Mapping, Optional, Sequence

from tfx import types
from tfx.dsl.components.base import base_beam_component
from tfx.dsl.components.base import executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter
from tfx.types.component_spec import ExecutionParameter

from components.generator_example_gen import config as config_lib
from components.generator_example_gen import executor


class GeneratorExampleGenSpec(types.ComponentSpec):
  """Names and kwargs travel as JSON strings (see GeneratorExampleGenConfig)."""
  PARAMETERS = {
      'loader': ExecutionParameter(type=str),
      'loader_kwargs': ExecutionParameter(type=str),
      'feature_names': ExecutionParameter(type=str),
      'label_names': ExecutionParameter(type=str),
      'sample_weight_name': ExecutionParameter(type=str),
      'raw_bytes_features': ExecutionParameter(type=str),
      'num_partitions': ExecutionParameter(type=int),
      'num_shards': ExecutionParameter(type=int),
      'compression': ExecutionParameter(type=str),
      'train_buckets': ExecutionParameter(type=int),
      'eval_buckets': ExecutionParameter(type=int),
  }
  INPUTS = {}
  OUTPUTS = {
      executor.EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples),
      executor.SCHEMA_KEY: ChannelParameter(type=standard_artifacts.Schema),
  }


class GeneratorExampleGen(base_beam_component.BaseBeamComponent):
  """Examples (train/eval TFRecord shards, GZIP unless compression='none') and their Schema
  from a Python loader.

  Outputs: `examples` (Examples, laid out like CsvExampleGen's) and `schema` (Schema with
  each feature's fixed shape). Every setting is checked here, when the pipeline is defined:
  a non-JSON loader_kwargs value fails naming its key. The loader itself is imported only
  when the component runs, so compiling needs none of its dependencies.
  """
  SPEC_CLASS = GeneratorExampleGenSpec
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

  def __init__(self,
               loader: str,
               loader_kwargs: Optional[Mapping[str, Any]] = None,
               feature_names: Sequence[str] = ('x',),
               label_names: Sequence[str] = ('label',),
               sample_weight_name: str = 'sample_weight',
               raw_bytes_features: Sequence[str] = (),
               num_partitions: int = 4,
               num_shards: int = 4,
               compression: str = 'gzip',
               train_buckets: int = 2,
               eval_buckets: int = 1):
    config = config_lib.GeneratorExampleGenConfig(
        loader=loader,
        loader_kwargs=loader_kwargs if loader_kwargs is not None else {},
        feature_names=feature_names,
        label_names=label_names,
        sample_weight_name=sample_weight_name,
        raw_bytes_features=raw_bytes_features,
        num_partitions=num_partitions,
        num_shards=num_shards,
        compression=compression,
        train_buckets=train_buckets,
        eval_buckets=eval_buckets)
    spec = GeneratorExampleGenSpec(
        examples=types.Channel(type=standard_artifacts.Examples),
        schema=types.Channel(type=standard_artifacts.Schema),
        **config.to_exec_properties())
    super().__init__(spec=spec)
