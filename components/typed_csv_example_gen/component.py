"""TypedCsvExampleGen: CsvExampleGen's place in the pipeline, with declared column types."""

from typing import Mapping, Optional, Sequence, Union

from tfx.components.example_gen import component as example_gen_component
from tfx.dsl.components.base import executor_spec
from tfx.orchestration import data_types
from tfx.proto import example_gen_pb2
from tfx.proto import range_config_pb2

from components.typed_csv_example_gen import config
from components.typed_csv_example_gen import executor


class TypedCsvExampleGen(example_gen_component.FileBasedExampleGen):
  """Reads CSV files (RFC 4180; '*.gz' as GZIP; UTF-8, BOM allowed; columns in any order) into
  train/eval splits of tf.Examples typed by `column_types`, never inferred.

  A FileBasedExampleGen: the same input_base/input_config ({SPAN}/{VERSION} patterns)/
  output_config/range_config, the same driver (span, version, fingerprint; on Vertex the
  compiled spec runs it as the `lifecycle.preCacheCheck` hook) and the standard `examples`
  output. The file layout comes from `custom_config`, built by
  sharded_executors.example_gen_custom_config(ExampleFilesConfig(...)) (default layout when
  None); the column declaration is merged into it here.

  Args:
    input_base: the folder holding the CSV files (or span folders), or a str RuntimeParameter
      whose value is that folder (compiled specs: pipeline parameter `data_root`).
    column_types: {column: 'int' | 'float' | 'string'}, every column of every file: a file
      with a missing or an undeclared column is refused. 'int' -> int64_list, 'float' ->
      float_list, 'string' -> bytes_list (UTF-8); an empty cell is a missing value (an empty
      list). Checked here, naming a bad column or type.
    missing_values: cell texts that also mean "missing", e.g. ['NA'] (in any column).
    label_column: the label column, named as such when a file lacks it.
    label_requires: the columns a row needs to have a label (the label column, or a label
      expression's inputs): a row missing one is not an example. It is left out of every
      split, and counted in the Examples artifact's `data_quality` property
      (core/data_quality.py), with each column's missing cells per split.
    input_config, output_config, range_config: as FileBasedExampleGen's (default: every file
      of input_base, split 2:1 train/eval by hash).
    custom_config: the file layout (example_gen_custom_config); not a runtime parameter.
  """
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.TypedCsvExampleGenExecutor)

  def __init__(
      self,
      input_base: Union[str, data_types.RuntimeParameter],
      column_types: Mapping[str, str],
      missing_values: Sequence[str] = (),
      label_column: Optional[str] = None,
      label_requires: Sequence[str] = (),
      input_config: Optional[Union[example_gen_pb2.Input, data_types.RuntimeParameter]] = None,
      output_config: Optional[Union[example_gen_pb2.Output,
                                    data_types.RuntimeParameter]] = None,
      custom_config: Optional[example_gen_pb2.CustomConfig] = None,
      range_config: Optional[Union[range_config_pb2.RangeConfig,
                                   data_types.RuntimeParameter]] = None):
    if isinstance(input_base, data_types.RuntimeParameter):
      if input_base.ptype is not str:
        raise ValueError(f'input_base runtime parameter {input_base.name!r} must be a str '
                         f'parameter, got {input_base.ptype!r}')
    elif not input_base or not isinstance(input_base, str):
      raise ValueError(f'input_base must be the folder holding the CSV files, got {input_base!r}')
    super().__init__(
        input_base=input_base, input_config=input_config, output_config=output_config,
        custom_config=config.typed_csv_custom_config(
            column_types, custom_config, missing_values=missing_values,
            label_column=label_column, label_requires=label_requires),
        range_config=range_config)
