"""trainer/trees.py: gradient-boosted trees on the transformed features, saved with the
network's serving signatures; refused, with the reason, where they cannot train."""

import collections
import dataclasses

import numpy as np
import pytest
import tensorflow as tf

import datadefs
from core.names import FEATURES_SIGNATURE, LABEL_SIGNATURE, SERVING_SIGNATURE
from datadefs.definition import transformed_name
from serving import instances
from trainer import model as model_lib
from trainer import strategy as strategy_lib
from trainer.config import TrainConfig

PENGUINS = dataclasses.replace(datadefs.load('penguins'), model=model_lib.TREES)


def test_trees_are_a_model_a_table_can_name():
  assert model_lib.TREES in datadefs.load('taxi').kind_info.models
  assert PENGUINS.model_name == model_lib.TREES
  assert model_lib.TREES in model_lib.ONE_PASS_MODELS


def test_ids_of_vocabulary_columns_are_categories_everything_else_numbers():
  from trainer import trees  # pylint: disable=import-outside-toplevel; TF-DF
  semantics = trees.feature_semantics(PENGUINS)
  assert set(semantics) == set(PENGUINS.model_inputs())
  categorical = {transformed_name(column.name) for column in PENGUINS.features()
                 if column.role in ('vocabulary', 'integer_id')}
  assert categorical == {transformed_name(name) for name in ('island', 'sex', 'year')}
  for name, semantic in semantics.items():
    expected = 'CATEGORICAL' if name in categorical else 'NUMERICAL'
    assert semantic.name == expected, name


@pytest.mark.parametrize('strategy,jobs,wants', [
    ('mirrored', {}, "strategy 'mirrored'"),
    ('tpu', {}, "strategy 'tpu'"),
    ('multi_worker', {}, "strategy 'multi_worker'"),
    ('auto', {'chief': ('a:1',), 'worker': ('b:1',)}, '2 workers (TF_CONFIG)'),
])
def test_trees_refuse_a_distributed_run_and_say_why(strategy, jobs, wants):
  from trainer import trees  # pylint: disable=import-outside-toplevel
  cluster = strategy_lib.Cluster(jobs, 'chief' if jobs else None)
  with pytest.raises(ValueError, match='trains on one worker') as error:
    trees.check_single_worker(TrainConfig(strategy=strategy), cluster)
  assert wants in str(error.value) and 'vertex-cpu' in str(error.value)


@pytest.mark.parametrize('strategy', ['auto', 'default'])
def test_trees_train_on_one_worker_when_nothing_else_is_asked(strategy):
  from trainer import trees  # pylint: disable=import-outside-toplevel
  trees.check_single_worker(TrainConfig(strategy=strategy), strategy_lib.Cluster())


@pytest.mark.e2e
def test_trees_are_saved_with_the_networks_serving_signatures(trained_trees):
  import tensorflow_decision_forests  # pylint: disable=import-outside-toplevel,unused-import
  trees_model = tf.saved_model.load(str(trained_trees['trees']))
  network = tf.saved_model.load(str(trained_trees['network']))
  assert set(trees_model.signatures) == set(network.signatures) == {
      SERVING_SIGNATURE, FEATURES_SIGNATURE, LABEL_SIGNATURE}
  for name in trees_model.signatures:
    assert (trees_model.signatures[name].structured_input_signature ==
            network.signatures[name].structured_input_signature), name

  # serving_default on raw rows without their label: one probability per class, as the network.
  rows = trained_trees['eval_rows']
  examples, errors = instances.to_examples(rows, PENGUINS)
  assert not any(errors)
  examples = tf.constant(examples)
  probabilities = trees_model.signatures[SERVING_SIGNATURE](examples=examples)['outputs'].numpy()
  shape = network.signatures[SERVING_SIGNATURE](examples=examples)['outputs'].shape
  assert probabilities.shape == tuple(shape) == (len(rows), len(PENGUINS.label.classes))
  np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)

  # Better than always answering the eval split's most common species.
  species = [row[PENGUINS.label.column] for row in rows]
  majority = collections.Counter(species).most_common(1)[0][1] / len(species)
  predicted = [PENGUINS.label.classes[i] for i in probabilities.argmax(axis=1)]
  accuracy = np.mean([p == s for p, s in zip(predicted, species)])
  assert accuracy > majority, (accuracy, majority)
