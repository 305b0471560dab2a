"""The bundled taxi dataset's names, as tests use them."""

import datadefs
from datadefs.definition import transformed_name

TAXI = datadefs.load('taxi')
LABEL_KEY = TAXI.label_key  # 'tips_xf'
NUMERIC = [transformed_name(column.name) for column in TAXI.features('numeric')]
ALL_FEATURES = [transformed_name(column.name) for column in TAXI.features()]
BUCKETIZED = [transformed_name(column.name) for column in TAXI.features('bucketized')]


def pipeline_settings(home_dir, **changes):
  """The local engine's PipelineSettings for the taxi dataset with its home at `home_dir`;
  `changes`: DataSettings fields (example_files, data_root, ...) or TrainingSettings fields
  (train_steps, eval_steps, train_config, ...)."""
  # pylint: disable=import-outside-toplevel
  import dataclasses
  from core.home import PipelineHome
  from pipeline import environment
  from pipeline import settings
  from pipeline.engines import local
  run = settings.run_settings(environment.read({'DATASET': 'taxi'}))
  data_fields = {field.name for field in dataclasses.fields(settings.DataSettings)}
  run = dataclasses.replace(
      run,
      data=dataclasses.replace(run.data, **{k: v for k, v in changes.items() if k in data_fields}),
      training=dataclasses.replace(
          run.training, **{k: v for k, v in changes.items() if k not in data_fields}))
  return local.pipeline_settings(run, PipelineHome.at(str(home_dir)))
