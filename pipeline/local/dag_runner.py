"""Runs the pipeline locally with LocalDagRunner, a SQLite MLMD store and Beam's DirectRunner.

`make run` reaches it through pipeline/local/run.py; the tfx CLI through ../local_runner.py.
"""

from tfx import v1 as tfx

from pipeline.local import config as config_lib
from pipeline import graph
from pipeline.settings import PipelineSettings


def build(config: config_lib.LocalConfig) -> tfx.dsl.Pipeline:
  return graph.create_pipeline(PipelineSettings(
      pipeline_name=config.pipeline_name,
      pipeline_root=config.pipeline_root,
      dataset=config.dataset,
      serving_model_dir=config.serving_model_dir,
      data_root=config.data_root,
      input_pattern=config.input_pattern,
      source=config.source,
      train_steps=config.train_steps,
      eval_steps=config.eval_steps,
      train_config=config.train_config,
      tuner_trials=config.tuner_trials,
      tuner_steps=config.tuner_steps,
      example_files=config.example_files,
      beam_pipeline_args=config.beam_pipeline_args,
      metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
          config.metadata_path),
      enable_cache=config.enable_cache))


def run(config: config_lib.LocalConfig) -> None:
  tfx.orchestration.LocalDagRunner().run(build(config))
