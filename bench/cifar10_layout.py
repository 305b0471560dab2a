"""An image pipeline laid out as TFX's CIFAR-10 example (tensorflow/tfx
`tfx/examples/cifar10/`), for bench/images_e2e.py to compare with `make run`: the images are
decoded and resized in the `preprocessing_fn`, Transform writes float32 pixels, and the model is
served from float pixels, so every client must decode and resize images itself.

Everything else is held equal, so only the layout differs: the same examples (our
ImageExampleGen's output, imported), the same decode-and-resize function, model, optimizer,
batch size, steps and input pipeline (trainer/task.py `train`). Its components are the
example's up to the Trainer: ImportExampleGen, StatisticsGen, SchemaGen, ExampleValidator,
Transform, Trainer. Left out, and so not timed: an Evaluator and a Pusher, which `make run`
also runs (the comparison leans its way). Its accuracy is the trained model's on the whole eval
split, computed in run_fn and written to <model_run>/accuracy.json.

  python -m bench.cifar10_layout --examples DIR --root DIR [--dataset digits] [--train-steps N]
"""

import argparse
import json
import os
import sys
from typing import Any, Dict

import tensorflow as tf
import tensorflow_transform as tft
from tfx import v1 as tfx

import datadefs
from datadefs.definition import Dataset
from datadefs.images.spec import IMAGE_FEATURE, RAW_IMAGE
from trainer import input_pipeline
from trainer import strategy as strategy_lib
from trainer import task
from trainer.config import TrainConfig
from trainer.images.decode import decode_batch
from trainer.images.decoder import image_spec
from trainer.kinds import ExampleDecoder
from transform import preprocessing

ACCURACY_FILE = 'accuracy.json'
# The TFX examples' Beam setting: one worker process per core.
BEAM_ARGS = ['--direct_running_mode=multi_processing', '--direct_num_workers=0']
PIPELINE_NAME = 'cifar10-layout'
MODULE = 'bench.cifar10_layout'  # as Transform and the Trainer import it (not __main__)


def preprocessing_fn(inputs, custom_config: Dict[str, Any]):
  """Decodes and resizes every image to float32 [size, size, channels] (0-255), as the CIFAR-10
  example does; the label as in ours."""
  dataset = Dataset.from_custom_config(custom_config, 'Transform')
  spec = image_spec(dataset)
  encoded = inputs[RAW_IMAGE]
  if isinstance(encoded, tf.sparse.SparseTensor):
    encoded = tf.sparse.to_dense(encoded, default_value=b'')
  pixels = decode_batch(tf.reshape(encoded, [-1]), spec.size, spec.channels)
  return {IMAGE_FEATURE: tf.cast(pixels, tf.float32),
          dataset.label_key: preprocessing.label(inputs, dataset)}


def run_fn(fn_args: tfx.components.FnArgs):
  """Trains as ours does (trainer/task.py), on the float pixels; saves a float serving input."""
  config = TrainConfig.from_custom_config(fn_args.custom_config)
  dataset = Dataset.from_custom_config(fn_args.custom_config, 'Trainer')
  distribution = strategy_lib.create(config, strategy_lib.parse_tf_config(None),
                                     strategy_lib.StandIns())
  feature_spec = tft.TFTransformOutput(fn_args.transform_output).transformed_feature_spec()
  # Float pixels in: the model's uint8 input casts them back, exactly (they are whole numbers).
  decode = ExampleDecoder(feature_spec)
  model = task.train(distribution, config, dataset, train_files=fn_args.train_files,
                     eval_files=fn_args.eval_files, decode=decode,
                     train_steps=fn_args.train_steps, eval_steps=fn_args.eval_steps,
                     log_dir=fn_args.model_run_dir)
  every_eval_example = input_pipeline.InputConfig(
      file_patterns=tuple(fn_args.eval_files), batch_size=config.eval_batch_size,
      is_training=False, label_key=dataset.label_key)
  results = model.evaluate(input_pipeline.make_dataset(every_eval_example, decode),
                           return_dict=True, verbose=0)
  with tf.io.gfile.GFile(os.path.join(fn_args.model_run_dir, ACCURACY_FILE), 'w') as out:
    json.dump({name: float(value) for name, value in results.items()}, out)
  spec = image_spec(dataset)
  serve = tf.function(lambda pixels: model({IMAGE_FEATURE: pixels})).get_concrete_function(
      tf.TensorSpec([None, spec.size, spec.size, spec.channels], tf.float32, name=IMAGE_FEATURE))
  task.save_model(distribution, model, fn_args.serving_model_dir, {'serving_default': serve})


def create_pipeline(examples: str, root: str, dataset: Dataset,
                    train_steps: int) -> tfx.dsl.Pipeline:
  """ImportExampleGen over our ExampleGen's Split-train and Split-eval, then the example's
  components up to the Trainer."""
  splits = [tfx.proto.Input.Split(name=name, pattern=f'Split-{name}/*')
            for name in ('train', 'eval')]
  example_gen = tfx.components.ImportExampleGen(
      input_base=examples, input_config=tfx.proto.Input(splits=splits))
  statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs['examples'])
  schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs['statistics'],
                                        infer_feature_shape=True)
  example_validator = tfx.components.ExampleValidator(
      statistics=statistics_gen.outputs['statistics'], schema=schema_gen.outputs['schema'])
  transform = tfx.components.Transform(
      examples=example_gen.outputs['examples'], schema=schema_gen.outputs['schema'],
      preprocessing_fn=f'{MODULE}.preprocessing_fn',
      custom_config=dataset.to_custom_config())
  trainer = tfx.components.Trainer(
      run_fn=f'{MODULE}.run_fn',
      examples=transform.outputs['transformed_examples'],
      transform_graph=transform.outputs['transform_graph'],
      schema=schema_gen.outputs['schema'],
      train_args=tfx.proto.TrainArgs(num_steps=train_steps),
      eval_args=tfx.proto.EvalArgs(num_steps=None),
      custom_config={**TrainConfig().to_custom_config(), **dataset.to_custom_config()})
  return tfx.dsl.Pipeline(
      pipeline_name=PIPELINE_NAME, pipeline_root=os.path.join(root, 'pipeline_root'),
      components=[example_gen, statistics_gen, schema_gen, example_validator, transform,
                  trainer],
      metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
          os.path.join(root, 'metadata.db')),
      beam_pipeline_args=BEAM_ARGS)


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--examples', required=True,
                      help="our ExampleGen's examples artifact (with Split-train, Split-eval)")
  parser.add_argument('--root', required=True, help='where the pipeline writes')
  parser.add_argument('--dataset', default='digits')
  parser.add_argument('--train-steps', type=int, default=None,
                      help="default: the definition's train_steps")
  args = parser.parse_args(argv)
  dataset = datadefs.load(args.dataset)
  steps = args.train_steps or dataset.train_steps
  if not steps:
    parser.error(f'{args.dataset} names no train_steps: pass --train-steps')
  tfx.orchestration.LocalDagRunner().run(create_pipeline(args.examples, args.root, dataset, steps))
  return 0


if __name__ == '__main__':
  sys.exit(main())
