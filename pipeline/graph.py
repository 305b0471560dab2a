"""The one pipeline graph, `create_pipeline(settings)`. The engines only fill the settings and
run or compile it: pipeline/engines/local.py (LocalDagRunner), pipeline/vertex/compiler.py (the
KFP v2 spec for Vertex AI, which the local Vertex engine and Vertex AI run)."""

from typing import List

import tensorflow_data_validation as tfdv
import tensorflow_model_analysis as tfma
from google.protobuf import wrappers_pb2
from tfx import v1 as tfx
from tfx.extensions.google_cloud_ai_platform import constants as vertex_constants
from tfx.extensions.google_cloud_ai_platform.trainer import executor as vertex_trainer_executor
from tfx.extensions.google_cloud_ai_platform.tuner import executor as vertex_tuner_executor

from components import direct_runner
from components import sharded_executors
from components import unchanged_model
from components import vertex_pusher
from components.anomalies_gate import AnomaliesGate
from components.label_gate import LabelGate
from components.scoped_evaluator import ScopedEvaluator
from core.names import LABEL_SIGNATURE, SERVING_SIGNATURE, TUNER_TRIALS_KEY
from datadefs.definition import Dataset
from datadefs.tabular import splits
from pipeline import sources
from pipeline.settings import PipelineSettings

PREPROCESSING_FN = 'transform.preprocessing.preprocessing_fn'
STATS_OPTIONS_UPDATER_FN = 'transform.statistics.stats_options_updater_fn'
RUN_FN = 'trainer.task.run_fn'
TUNER_FN = 'trainer.tuning.tuner_fn'
QUANTILE_BUCKETS = 100


def example_gen_output_config() -> tfx.proto.Output:
  # A 2:1 train/eval split by hash of the whole row (datadefs/tabular/splits.py, which
  # `dataset init`'s baseline splits its sample by too): stable across runs of the same data.
  return splits.output_config()


def statistics_options(dataset: Dataset) -> tfdv.StatsOptions:
  """StatisticsGen's options. Percentiles (not TFDV's default deciles): the report's histograms
  clip long tails at the 1st and 99th (runs/report/data_view.py). For a kind that asks for them
  (images: datadefs/kinds.py), TFDV's semantic-domain statistics: each image's format from its
  magic bytes, which the curated schema's image_domain bounds (datadefs/images/schema.py);
  StatisticsGen then also reads that schema (create_pipeline).
  TFDV writes them for a split of at least 100 values, at least 80% of them images; the
  ExampleGen has decoded every image before (components/image_example_gen)."""
  return tfdv.StatsOptions(num_quantiles_histogram_buckets=QUANTILE_BUCKETS,
                           enable_semantic_domain_stats=dataset.kind_info.semantic_domain_stats)


def eval_config(dataset: Dataset) -> tfma.EvalConfig:
  """Bless a model when it meets the dataset's threshold on its task's blessing metric (an
  accuracy floor, a mean absolute error ceiling: datadefs/tasks.py), made at least as strict as
  the naive baseline's score when the definition has one ([baseline]: a model worse than
  always predicting the majority or the mean is never blessed), and is no worse than the latest
  blessed one. A kind that slices by class (datadefs/kinds.py: images) also gets every metric
  per class of the raw label; the threshold still bounds the whole eval split only (a
  MetricConfig's `threshold` would bound every slice: one hard class would refuse the model)."""
  task = dataset.task_kind
  higher_is_better = task.higher_is_better
  bound = ({'lower_bound': {'value': dataset.blessing_bound}} if higher_is_better else
           {'upper_bound': {'value': dataset.blessing_bound}})
  threshold = tfma.MetricThreshold(
      value_threshold=tfma.GenericValueThreshold(**bound),
      # Ignored on the first run, when no blessed baseline exists yet.
      change_threshold=tfma.GenericChangeThreshold(
          direction=(tfma.MetricDirection.HIGHER_IS_BETTER if higher_is_better
                     else tfma.MetricDirection.LOWER_IS_BETTER),
          absolute={'value': -1e-10 if higher_is_better else 1e-10}))
  slicing_specs = [tfma.SlicingSpec()]
  if dataset.kind_info.slices_by_class and task.class_names(dataset.label.classes):
    slicing_specs.append(tfma.SlicingSpec(feature_keys=[dataset.label.column]))
    gated = tfma.MetricConfig(
        class_name=task.blessing_metric_class,
        per_slice_thresholds=[tfma.PerSliceMetricThreshold(
            slicing_specs=[tfma.SlicingSpec()], threshold=threshold)])
  else:
    gated = tfma.MetricConfig(class_name=task.blessing_metric_class, threshold=threshold)
  metrics = [tfma.MetricConfig(class_name='ExampleCount'), gated]
  metrics += [tfma.MetricConfig(class_name=name, config=config)
              for name, config in task.other_metrics]
  return tfma.EvalConfig(
      model_specs=[
          tfma.ModelSpec(
              signature_name=SERVING_SIGNATURE,
              label_key=dataset.label_key,
              preprocessing_function_names=[LABEL_SIGNATURE])
      ],
      slicing_specs=slicing_specs,
      metrics_specs=[tfma.MetricsSpec(metrics=metrics)],
      # Not the model's compiled Keras metrics again (its loss, and copies of the metrics
      # above): TFMA computes those by loading the model into each of its combiners, which
      # took half the Evaluator's time (15 s -> 7.5 s at 15k rows). The Trainer's eval loss
      # is in the run report's curves.
      options=tfma.Options(include_default_metrics=wrappers_pb2.BoolValue(value=False)))


def _tuner(settings: PipelineSettings, examples, transform, trainer_custom_config):
  """TFX's Tuner (or, on Vertex, its Vertex extension: trials run as Vertex jobs on the
  Trainer's machines) over Transform's output, `settings.tuner_trials` trials of
  `tuner_steps` steps each (trainer/tuning.py), reading `examples` as the Trainer does."""
  training = settings.training
  custom_config = {**trainer_custom_config, TUNER_TRIALS_KEY: training.tuner_trials}
  tuner_class = tfx.components.Tuner
  if settings.vertex and settings.vertex.training_args:
    tuner_class = tfx.extensions.google_cloud_ai_platform.Tuner
    custom_config[vertex_tuner_executor.TUNING_ARGS_KEY] = custom_config.pop(
        vertex_trainer_executor.TRAINING_ARGS_KEY)
  return tuner_class(
      tuner_fn=TUNER_FN,
      examples=examples,
      transform_graph=transform.outputs['transform_graph'],
      train_args=tfx.proto.TrainArgs(num_steps=training.tuner_steps),
      eval_args=tfx.proto.EvalArgs(num_steps=training.eval_steps),
      custom_config=custom_config)


def create_pipeline(settings: PipelineSettings) -> tfx.dsl.Pipeline:
  """Returns the pipeline for `settings.dataset`: ingest, validate, transform, train,
  evaluate, push (pipeline/settings.py says what each setting does)."""
  dataset, vertex, data, training = (settings.dataset, settings.vertex, settings.run.data,
                                     settings.training)
  data_root = settings.data_root
  if settings.data_root_parameter and data_root:
    data_root = tfx.dsl.experimental.RuntimeParameter(
        name=settings.data_root_parameter, ptype=str, default=data_root)
  example_gen = sources.example_gen(
      data.source, data_root, settings.input_pattern, data.bigquery_query,
      example_gen_output_config(), data.example_files, dataset)
  # The schema is the curated one in the repo, never re-inferred from (possibly bad) new data.
  schema_gen = tfx.components.ImportSchemaGen(schema_file=settings.schema_path)
  semantic = dataset.kind_info.semantic_domain_stats
  statistics_gen = direct_runner.ScaledStatisticsGen(
      examples=example_gen.outputs['examples'],
      # Images: the curated schema types the image bytes (BYTES: their byte sizes, which its
      # image_domain bounds; unread, TFDV may take them for text).
      schema=schema_gen.outputs['schema'] if semantic else None,
      stats_options=statistics_options(dataset)).with_id('StatisticsGen')
  example_validator = tfx.components.ExampleValidator(
      statistics=statistics_gen.outputs['statistics'], schema=schema_gen.outputs['schema'])
  # Drift is measured against the statistics of the latest data the gate accepted.
  baseline_statistics = tfx.dsl.Resolver(
      strategy_class=tfx.dsl.experimental.LatestArtifactStrategy,
      statistics=tfx.dsl.Channel(
          type=tfx.types.standard_artifacts.ExampleStatistics,
          producer_component_id='AnomaliesGate', output_key='validated_statistics'),
  ).with_id('latest_validated_statistics_resolver')
  anomalies_gate = AnomaliesGate(
      anomalies=example_validator.outputs['anomalies'],
      statistics=statistics_gen.outputs['statistics'],
      schema=schema_gen.outputs['schema'],
      baseline_statistics=baseline_statistics.outputs['statistics'],
      pipeline_scope=settings.pipeline_name)

  writes_examples = dataset.kind_info.transform_writes_examples
  # Transform writing at least num_shards files per split, so the trainer has cycle_length
  # files to read, compressed as configured; it keeps the id 'Transform' (artifact paths and
  # reports use it).
  transform = sharded_executors.ShardedTransform(
      examples=example_gen.outputs['examples'],
      schema=schema_gen.outputs['schema'],
      preprocessing_fn=PREPROCESSING_FN,
      # No run reads an analyzer cache back (none is wired in: each run analyzes its own new
      # data), so writing one is pure cost: 4.6 s of a 26 s Transform at 15k rows.
      disable_analyzer_cache=True,
      # Unless the Trainer is to read them, no transformed examples are written: the Trainer
      # applies the graph as it reads (datadefs/kinds.py transform_writes_examples).
      materialize=writes_examples,
      # Its statistics cover the label, all LabelGate reads (transform/statistics.py).
      stats_options_updater_fn=STATS_OPTIONS_UPDATER_FN,
      custom_config={**sharded_executors.transform_custom_config(data.example_files),
                     **dataset.to_custom_config()},
  ).with_id('Transform')
  # Transform consumes nothing of the gate's, so order it after the gate explicitly.
  transform.add_upstream_node(anomalies_gate)

  # A label that never varies passes the schema but cannot train a model: stop before Trainer.
  label_gate = LabelGate(statistics=transform.outputs['post_transform_stats'],
                         label_key=dataset.label_key, task=dataset.task,
                         label_column=dataset.label.column)

  trainer_custom_config = {**training.train_config.to_custom_config(),
                           **dataset.to_custom_config()}
  trainer_class = tfx.components.Trainer
  if vertex and vertex.training_args:
    trainer_class = tfx.extensions.google_cloud_ai_platform.Trainer
    trainer_custom_config.update({
        vertex_constants.ENABLE_VERTEX_KEY: True,
        vertex_constants.VERTEX_REGION_KEY: vertex.region,
        vertex_trainer_executor.TRAINING_ARGS_KEY: vertex.training_args,
    })
  # Optional: a small hyperparameter search whose best values the Trainer trains with.
  # What the Trainer reads: Transform's examples, or the ExampleGen's, transformed on read.
  train_examples = (transform.outputs['transformed_examples'] if writes_examples
                    else example_gen.outputs['examples'])
  tuner = (_tuner(settings, train_examples, transform, trainer_custom_config)
           if training.tuner_trials else None)
  if tuner is not None:
    tuner.add_upstream_node(label_gate)
  trainer = trainer_class(
      run_fn=RUN_FN,
      examples=train_examples,
      transform_graph=transform.outputs['transform_graph'],
      schema=schema_gen.outputs['schema'],
      hyperparameters=tuner.outputs['best_hyperparameters'] if tuner else None,
      train_args=tfx.proto.TrainArgs(num_steps=training.train_steps),
      eval_args=tfx.proto.EvalArgs(num_steps=training.eval_steps),
      custom_config=trainer_custom_config)
  trainer.add_upstream_node(label_gate)

  model_resolver = tfx.dsl.Resolver(
      strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
      model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
      model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
  ).with_id('latest_blessed_model_resolver')

  # The blessing is stamped with the pipeline name: the compiled resolver filters require it.
  evaluator = ScopedEvaluator(
      examples=example_gen.outputs['examples'],
      model=trainer.outputs['model'],
      baseline_model=model_resolver.outputs['model'],
      eval_config=eval_config(dataset),
      scope=settings.pipeline_name,
      # The models read serialized examples and the labels come from transform_label: TFMA
      # decodes the label column only, not every feature of each example.
      schema=schema_gen.outputs['schema'],
      decoded_features=[dataset.label.column]).with_id('Evaluator')

  # Both pushers skip a model that is the blessed baseline itself (nothing new: nothing pushed).
  if vertex and vertex.serving:
    pusher = vertex_pusher.Pusher(
        model=trainer.outputs['model'],
        model_blessing=evaluator.outputs['blessing'],
        custom_config={
            vertex_constants.ENABLE_VERTEX_KEY: True,
            vertex_constants.VERTEX_REGION_KEY: vertex.region,
            vertex_constants.VERTEX_CONTAINER_IMAGE_URI_KEY: vertex.serving['container']['image'],
            vertex_constants.SERVING_ARGS_KEY: vertex.serving['args'],
            vertex_pusher.SERVING_CONTAINER_KEY: vertex.serving['container'],
            vertex_pusher.MODEL_NAME_KEY: vertex.serving['model_name'],
            vertex_pusher.CHALLENGER_KEY: vertex.serving['challengers'],
        })
  else:
    pusher = unchanged_model.Pusher(
        model=trainer.outputs['model'],
        model_blessing=evaluator.outputs['blessing'],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(
                base_directory=settings.serving_model_dir)))
  pusher = pusher.with_id('Pusher')

  components: List = [
      example_gen, statistics_gen, schema_gen, example_validator, baseline_statistics,
      anomalies_gate, transform, label_gate, *([tuner] if tuner else []), trainer,
      model_resolver, evaluator, pusher,
  ]
  if settings.bulk_inference:
    # The eval split's predictions by the model the Evaluator blessed (nothing when it did
    # not), after the push: InferenceResult PredictionLogs (TFX's BulkInferrer).
    bulk_inferrer = tfx.components.BulkInferrer(
        examples=example_gen.outputs['examples'], model=trainer.outputs['model'],
        model_blessing=evaluator.outputs['blessing'],
        data_spec=tfx.proto.DataSpec(example_splits=['eval']),
        model_spec=tfx.proto.ModelSpec(model_signature_name=[SERVING_SIGNATURE]))
    bulk_inferrer.add_upstream_node(pusher)
    components.append(bulk_inferrer)
  for component in components:
    if component.id in settings.resources:
      component.with_platform_config(settings.resources[component.id])
  return tfx.dsl.Pipeline(
      pipeline_name=settings.pipeline_name,
      pipeline_root=settings.pipeline_root,
      components=components,
      enable_cache=settings.run.enable_cache,
      metadata_connection_config=settings.metadata_connection_config,
      beam_pipeline_args=list(settings.beam_pipeline_args))
