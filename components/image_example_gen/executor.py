"""ImageExampleGen's executor: class folders of images -> train/eval shards of tf.Examples.

Before the Beam job: the folder is listed (datadefs/images/files.py), or its manifest read
(datadefs/images/manifest.py), and refused when a class is not one of the classes. In the job: each image is read and decoded once to verify it;
a good one becomes a tf.Example of its original bytes (spec.RAW_*), a broken one a (path, why)
record; examples go to train or eval by the hash of their content hash
(`partition_feature_name`, whatever output_config says), and are written by the base class's
Do, then laid out in NUM_SHARDS files (ShardedExampleGenMixin). After it: more broken files
than max_broken_fraction allows, or a class with too few good images, fail the component,
naming them (the local engine's pre-check refuses such a folder before any component runs:
runs/precheck.py); otherwise the counts, the broken files and the ignored ones are the
Examples artifact's `data_quality` property (core/data_quality.py), which the console, the
report and last_run.json show.
"""

import json
import os
from typing import Any, Dict, List, Optional

from absl import logging
import apache_beam as beam
import tensorflow as tf
from tfx import types
from tfx.components.example_gen import base_example_gen_executor
from tfx.components.example_gen import utils as example_gen_utils
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils
from tfx.types import standard_component_specs
from tfx.utils import proto_utils

from components.image_example_gen import config
from components.image_example_gen.config import ImageInputError
from components.sharded_executors import ShardedExampleGenMixin
from core import data_quality
from datadefs.images import files as image_files
from datadefs.images import manifest as image_manifest
from datadefs.images import spec

_BROKEN = 'broken'
_RESULTS_DIR = '.image_results'


def _bytes(value: bytes) -> tf.train.Feature:
  return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def _int(value: int) -> tf.train.Feature:
  return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))


def image_example(data: bytes, label: str, verified: image_files.Verified) -> tf.train.Example:
  """The tf.Example of one image: its bytes as read, format, size, class and content hash."""
  return tf.train.Example(features=tf.train.Features(feature={
      spec.RAW_IMAGE: _bytes(data),
      spec.RAW_FORMAT: _bytes(verified.format.encode()),
      spec.RAW_HEIGHT: _int(verified.height),
      spec.RAW_WIDTH: _int(verified.width),
      spec.RAW_LABEL: _bytes(label.encode('utf-8')),
      spec.RAW_CONTENT_HASH: _bytes(image_files.content_hash(data).encode()),
  }))


class _ToExample(beam.DoFn):
  """(path, class) -> its tf.Example; a broken file -> (path, why) on the `broken` output."""

  def process(self, image):
    path, label = image
    try:
      data = image_files.read_bytes(path)
      verified = image_files.verify(data)
    except image_files.BrokenImage as error:
      yield beam.pvalue.TaggedOutput(_BROKEN, (path, str(error)))
      return
    except tf.errors.NotFoundError:  # a path a manifest lists
      yield beam.pvalue.TaggedOutput(_BROKEN, (path, 'not found'))
      return
    except (OSError, tf.errors.OpError) as error:
      yield beam.pvalue.TaggedOutput(_BROKEN, (path, f'cannot be read: {error}'))
      return
    yield image_example(data, label, verified)


class ReadImages(beam.PTransform):
  """(path, class) pairs -> tf.Examples, with the broken files as the `broken` output."""

  def __init__(self, images: List[image_files.ImageFile]):
    super().__init__()
    self._images = [tuple(image) for image in images]

  def expand(self, pipeline):
    return (pipeline
            | 'ListImages' >> beam.Create(self._images)
            | 'Spread' >> beam.Reshuffle()
            | 'Decode' >> beam.ParDo(_ToExample()).with_outputs(_BROKEN, main='examples'))


def _write_json(value: Any, path: str) -> None:
  with tf.io.gfile.GFile(path, 'w') as f:
    f.write(json.dumps(value))


def _read_json(path: str, default: Any) -> Any:
  if not tf.io.gfile.exists(path):
    return default
  with tf.io.gfile.GFile(path) as f:
    return json.loads(f.read())


class _ImageExecutor(base_example_gen_executor.BaseExampleGenExecutor):
  """Reads the listed images and splits them by content; ImageExampleGenExecutor (below) is
  the one to use."""

  _listing: image_files.Listing = image_files.Listing()
  _results_dir: Optional[str] = None

  def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
    # The base class's per-split contract, for its callers: the listed images' examples.
    @beam.ptransform_fn
    def _examples(pipeline, exec_properties, split_pattern):  # pylint: disable=unused-argument
      return (pipeline | ReadImages(self._listing.images)).examples
    return _examples  # pylint: disable=no-value-for-parameter

  def GenerateExamplesByBeam(self, pipeline: beam.Pipeline,
                             exec_properties: Dict[str, Any]) -> Dict[str, beam.PCollection]:
    input_config = proto_utils.json_to_proto(
        exec_properties[standard_component_specs.INPUT_CONFIG_KEY], example_gen_pb2.Input())
    output_config = proto_utils.json_to_proto(
        exec_properties[standard_component_specs.OUTPUT_CONFIG_KEY], example_gen_pb2.Output())
    split_config = output_config.split_config
    if len(input_config.splits) != 1 or not split_config.splits:
      raise ImageInputError('the image ExampleGen splits one folder by content hash: give one '
                            'input split and output hash buckets (train/eval)')
    split_config.partition_feature_name = spec.RAW_CONTENT_HASH  # Duplicates cannot straddle.
    names = example_gen_utils.generate_output_split_names(input_config, output_config)
    buckets = []
    for split in split_config.splits:
      buckets.append((buckets[-1] if buckets else 0) + split.hash_buckets)
    read = pipeline | 'ReadImages' >> ReadImages(self._listing.images)
    _ = (read[_BROKEN]
         | 'ListBroken' >> beam.combiners.ToList()
         | 'WriteBroken' >> beam.Map(_write_json, os.path.join(self._results_dir, 'broken.json')))
    splits = read.examples | 'SplitByContent' >> beam.Partition(
        base_example_gen_executor._PartitionFn,  # pylint: disable=protected-access
        len(buckets), buckets, split_config)
    result = {}
    for name, examples in zip(names, splits):
      _ = (examples
           | f'Count[{name}]' >> beam.combiners.Count.Globally()
           | f'WriteCount[{name}]' >> beam.Map(
               _write_json, os.path.join(self._results_dir, f'{name}.json')))
      result[name] = examples
    return result

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]],
         exec_properties: Dict[str, Any]) -> None:
    artifact = artifact_utils.get_single_instance(
        output_dict[standard_component_specs.EXAMPLES_KEY])
    self._results_dir = os.path.join(artifact.uri, _RESULTS_DIR)
    tf.io.gfile.makedirs(self._results_dir)
    super().Do(input_dict, output_dict, exec_properties)


class ImageExampleGenExecutor(ShardedExampleGenMixin, _ImageExecutor):
  """Class folders of images -> train/eval shards laid out as custom_config says."""

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]],
         exec_properties: Dict[str, Any]) -> None:
    # custom_config first: a bad one fails before anything is read.
    folder = config.folder_config(exec_properties)
    root = exec_properties[standard_component_specs.INPUT_BASE_KEY]
    try:
      # gs:// paths in a manifest are read here: on Vertex, they are local to the job.
      self._listing = image_manifest.data_root_listing(root, folder.manifest, cloud_paths=True)
    except (FileNotFoundError, image_manifest.ManifestError) as error:
      raise ImageInputError(str(error)) from None
    if not self._listing.images:
      raise ImageInputError(f'no image files in class folders under {root}')
    problems = image_files.folder_problems(self._listing, [], folder.classes,
                                           folder.image_spec())
    unknown = [problem for problem in problems if problem.startswith('class folder')]
    if unknown:
      raise ImageInputError('; '.join(unknown))
    logging.info('ImageExampleGen: %d images in %d class folders under %s; %d files ignored',
                 len(self._listing.images), len(self._listing.counts()), root,
                 len(self._listing.ignored))
    super().Do(input_dict, output_dict, exec_properties)
    artifact = artifact_utils.get_single_instance(
        output_dict[standard_component_specs.EXAMPLES_KEY])
    broken = [tuple(item) for item in sorted(_read_json(
        os.path.join(self._results_dir, 'broken.json'), []))]
    names = artifact_utils.decode_split_names(artifact.split_names)
    splits = {name: data_quality.split_counts(rows=_read_json(
        os.path.join(self._results_dir, f'{name}.json'), 0)) for name in names}
    tf.io.gfile.rmtree(self._results_dir)
    problems = image_files.folder_problems(self._listing, broken, folder.classes,
                                           folder.image_spec())
    if problems:
      raise ImageInputError('the image folder cannot be used:\n  ' + '\n  '.join(problems))
    artifact.set_string_custom_property(data_quality.PROPERTY, data_quality.to_property(
        splits, [spec.RAW_LABEL], [], left_out_files=broken,
        ignored_files=self._listing.ignored))
    for path, why in broken:
      logging.warning('ImageExampleGen: left out %s: %s', path, why)
