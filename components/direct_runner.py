"""Beam's DirectRunner on every core when a component's input is large, in-process when small.

The DirectRunner runs a pipeline in this process on one thread (`in_memory`, 1 worker) unless
told otherwise. For small inputs that is fastest: `multi_processing` starts a worker process per
core, and each imports TensorFlow and the component's libraries before any work (seconds per
pipeline, and a Transform runs several). For large inputs the second core pays for that.

Executors that mix in `ScaledDirectRunnerMixin` (Transform, StatisticsGen, the Evaluator) choose
per run, from the bytes of the examples they read, unless the pipeline's Beam arguments name
another runner (Dataflow: it scales itself) or set `--direct_running_mode` themselves (that
choice is kept). The local runs' Beam arguments (pipeline/local/config.py) leave it unset.
"""

import os
from typing import Any, Dict, Iterable, List, Sequence

from absl import logging
import tensorflow as tf
from tfx import types
from tfx.components.statistics_gen import component as statistics_gen_component
from tfx.components.statistics_gen import executor as statistics_gen_executor
from tfx.dsl.components.base import executor_spec
from tfx.types import standard_component_specs

from core.beam_args import flag_value, runner_name

# Inputs of at least this many bytes of (compressed) examples run on every core: about 500k
# taxi rows (42 bytes an example gzipped: 150k rows are 6 MiB, 1.5M rows 60 MiB). Measured on
# 2 cores (README, "The whole pipeline at scale"): at 150k rows every core made no component
# faster (the whole run 97 s against 89 s in-process); at 1.5M it halved the Evaluator and cut
# Transform by a third. The crossover in between was not measured.
MULTI_PROCESSING_MIN_BYTES = 20 << 20
_DIRECT_RUNNERS = ('directrunner', 'bundlebaseddirectrunner', 'switchingdirectrunner')


def scaled_args(beam_args: Sequence[str], input_bytes: int) -> List[str]:
  """beam_args, plus the DirectRunner's running mode for `input_bytes` of input when neither
  the runner nor the mode is set otherwise."""
  runner = runner_name(beam_args)
  if runner and runner not in _DIRECT_RUNNERS:
    return list(beam_args)
  if flag_value(beam_args, 'direct_running_mode') is not None:
    return list(beam_args)
  if input_bytes >= MULTI_PROCESSING_MIN_BYTES:
    # 0 workers: one per core.
    return [*beam_args, '--direct_running_mode=multi_processing', '--direct_num_workers=0']
  return [*beam_args, '--direct_running_mode=in_memory', '--direct_num_workers=1']


def examples_bytes(artifacts: Iterable[types.Artifact]) -> int:
  """Bytes of the files under the artifacts' URIs."""
  total = 0
  for artifact in artifacts:
    for directory, _, files in tf.io.gfile.walk(artifact.uri):
      total += sum(tf.io.gfile.stat(os.path.join(directory, name)).length for name in files)
  return total


class ScaledDirectRunnerMixin:
  """For a BaseBeamExecutor: call `scale_to_input(artifacts)` in Do before the stock Do."""

  def scale_to_input(self, input_dict: Dict[str, List[types.Artifact]], key: str) -> None:
    input_bytes = examples_bytes(input_dict.get(key, []))
    self._beam_pipeline_args = scaled_args(self._beam_pipeline_args, input_bytes)
    logging.info('Beam: %s for %.1f MiB of input', ' '.join(
        arg for arg in self._beam_pipeline_args if arg.startswith('--direct_')), input_bytes / 2**20)


class ScaledStatisticsGenExecutor(ScaledDirectRunnerMixin, statistics_gen_executor.Executor):
  """StatisticsGen's executor, on every core for large inputs."""

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
    self.scale_to_input(input_dict, standard_component_specs.EXAMPLES_KEY)
    super().Do(input_dict, output_dict, exec_properties)


class ScaledStatisticsGen(statistics_gen_component.StatisticsGen):
  """StatisticsGen choosing the DirectRunner's mode by input size; give it the id
  'StatisticsGen' (.with_id) to keep the stock artifact paths and report names."""
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(ScaledStatisticsGenExecutor)
