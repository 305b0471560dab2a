"""pipeline/graph.py: the choices that keep Transform and the Evaluator fast, pinned on the
built pipeline (the e2e runs show the results still train, serve and bless)."""

import dataclasses
import json

import pytest
import tensorflow_data_validation as tfdv

import datadefs
from datadefs.tabular import splits
from pipeline import graph
from tests import taxi


def _components(tmp_path):
  pipeline = graph.create_pipeline(taxi.pipeline_settings(tmp_path))
  return {component.id: component for component in pipeline.components}


def test_transform_writes_no_analyzer_cache_and_label_only_stats(tmp_path):
  transform = _components(tmp_path)['Transform']
  # A TF2 transform graph: TFT's Beam TransformDataset (default TF2 context) applies it.
  assert not transform.exec_properties['force_tf_compat_v1']
  assert 'updated_analyzer_cache' not in transform.outputs
  assert transform.exec_properties['stats_options_updater_fn'] == graph.STATS_OPTIONS_UPDATER_FN


def test_evaluator_does_not_recompute_the_models_compiled_metrics(tmp_path):
  evaluator = _components(tmp_path)['Evaluator']
  config = json.loads(evaluator.exec_properties['eval_config'])
  assert config['options']['include_default_metrics'] is False
  metrics = [m['class_name'] for m in config['metrics_specs'][0]['metrics']]
  assert 'BinaryAccuracy' in metrics  # the blessing's metric is still computed


def test_eval_config_gates_each_task_on_its_metric():
  for name, gated_metric in (('taxi', 'BinaryAccuracy'),
                             ('penguins', 'SparseCategoricalAccuracy'),
                             ('taxi_fare', 'MeanAbsoluteError'),
                             ('digits', 'SparseCategoricalAccuracy')):
    config = graph.eval_config(datadefs.load(name))
    gated = [m for m in config.metrics_specs[0].metrics
             if m.HasField('threshold') or m.per_slice_thresholds]
    assert [m.class_name for m in gated] == [gated_metric]
    assert not config.options.include_default_metrics.value


def test_the_pipeline_and_the_baseline_split_by_one_rule():
  assert graph.example_gen_output_config() == splits.output_config()
  assert [s.name for s in splits.output_config().split_config.splits] == list(
      splits.SPLIT_NAMES)
  # A row's split is its own: the same in any sample.
  records = [f'row {index}'.encode() for index in range(300)]
  assert (splits.split_indices(records)[100:] == splits.split_indices(records[100:])).all()


def test_a_model_worse_than_the_naive_baseline_is_never_blessed():
  """The bound is the definition's threshold, made at least as strict as its naive score."""
  for name in ('taxi', 'taxi_fare', 'penguins'):
    dataset = datadefs.load(name)
    config = graph.eval_config(dataset)
    gated = [m for m in config.metrics_specs[0].metrics if m.HasField('threshold')][0]
    bound = gated.threshold.value_threshold
    task = dataset.task_kind
    value = bound.lower_bound.value if task.higher_is_better else bound.upper_bound.value
    laxer = dataclasses.replace(dataset, blessing_threshold=(
        0.0 if task.higher_is_better else 1e9))
    stricter = dataclasses.replace(dataset, blessing_threshold=(
        0.999 if task.higher_is_better else 1e-9))
    assert value == pytest.approx(dataset.blessing_bound)
    assert laxer.blessing_bound == dataset.baseline.naive
    assert stricter.blessing_bound == stricter.blessing_threshold
    no_table = dataclasses.replace(laxer, baseline=None)
    assert no_table.blessing_bound == no_table.blessing_threshold


def test_evaluator_decodes_only_the_label(tmp_path):
  components = _components(tmp_path)
  evaluator = components['Evaluator']
  assert json.loads(evaluator.exec_properties['decoded_features']) == ['tips']
  [schema_channel] = [channel for key, channel in evaluator.inputs.items() if key == 'schema']
  assert schema_channel.producer_component_id == components['ImportSchemaGen'].id


def _validates(config, slice_key, value, diff) -> bool:
  """TFMA's own check of the thresholds on one slice's blessing metric: its value and its
  difference from the baseline."""
  from tensorflow_model_analysis.evaluators import metrics_validator
  from tensorflow_model_analysis.metrics import metric_specs
  keys = metric_specs.metric_thresholds_from_metrics_specs(config.metrics_specs,
                                                           eval_config=config)
  metrics = {key: diff if key.is_diff else value for key in keys}
  return metrics_validator.validate_metrics((slice_key, metrics), config).validation_ok


def test_an_image_dataset_is_evaluated_per_class_and_blessed_on_the_whole_split():
  dataset = datadefs.load('digits')
  config = graph.eval_config(dataset)
  assert [list(spec.feature_keys) for spec in config.slicing_specs] == [[], ['label']]
  below = dataset.blessing_bound - 0.1
  # One class below the threshold, or worse than under the baseline, does not refuse the model;
  # the whole split below the threshold, or worse than the baseline, does.
  assert _validates(config, (('label', b'eight'),), below, diff=-0.1)
  assert not _validates(config, (), below, diff=0.0)
  assert not _validates(config, (), dataset.blessing_bound, diff=-0.1)
  assert _validates(config, (), dataset.blessing_bound, diff=0.0)


def test_a_table_is_evaluated_on_the_whole_split_only():
  for name in ('taxi', 'penguins', 'taxi_fare'):
    config = graph.eval_config(datadefs.load(name))
    assert [list(spec.feature_keys) for spec in config.slicing_specs] == [[]]


def test_statisticsgen_reads_the_curated_schema_and_semantic_domains_for_images_only(tmp_path):
  # pylint: disable=import-outside-toplevel
  from core.home import PipelineHome
  from pipeline import environment
  from pipeline import settings
  from pipeline.engines import local
  for name, images in (('digits', True), ('taxi', False)):
    run = settings.run_settings(environment.read({'DATASET': name}))
    pipeline = graph.create_pipeline(local.pipeline_settings(
        run, PipelineHome.at(str(tmp_path / name))))
    components = {component.id: component for component in pipeline.components}
    statistics_gen = components['StatisticsGen']
    options = tfdv.StatsOptions.from_json(statistics_gen.exec_properties['stats_options_json'])
    assert options.enable_semantic_domain_stats is images
    schema = statistics_gen.inputs.get('schema')
    assert (schema is not None and schema.producer_component_id == 'ImportSchemaGen') is images


def test_images_train_on_the_example_gens_examples_and_tables_on_transforms(tmp_path):
  """An image's Transform writes no examples (a copy of every image); its Trainer applies the
  graph on read (trainer/raw_input.py). A table's Trainer reads Transform's examples."""
  # pylint: disable=import-outside-toplevel
  from core.home import PipelineHome
  from pipeline import environment
  from pipeline import settings
  from pipeline.engines import local
  for name, producer in (('digits', 'ImageExampleGen'), ('taxi', 'Transform')):
    run = settings.run_settings(environment.read({'DATASET': name, 'TUNER_TRIALS': '2'}))
    pipeline = graph.create_pipeline(local.pipeline_settings(
        run, PipelineHome.at(str(tmp_path / name))))
    components = {component.id: component for component in pipeline.components}
    for reader in ('Trainer', 'Tuner'):
      assert components[reader].inputs['examples'].producer_component_id == producer, reader
    assert ('transformed_examples' in components['Transform'].outputs) is (
        producer == 'Transform')
