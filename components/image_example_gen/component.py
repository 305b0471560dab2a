"""ImageExampleGen: a folder of class folders of images -> train/eval tf.Examples, one per image."""

from typing import Optional, Union

from tfx.components.example_gen import component as example_gen_component
from tfx.dsl.components.base import executor_spec
from tfx.orchestration import data_types
from tfx.proto import example_gen_pb2

from components.image_example_gen import config
from components.image_example_gen import executor
from core.example_files import ExampleFilesConfig

# What the driver fingerprints (and spans resolve against): the files in each class folder; for
# a manifest, the manifest file (an image changed in place under an unchanged manifest is not
# new data to the driver, so such a run is cached: CACHE=0 reads it).
INPUT_PATTERN = '*/*'


class ImageExampleGen(example_gen_component.FileBasedExampleGen):
  """Reads every image under input_base's class folders (datadefs/images/files.py) into
  tf.Examples of the original bytes (spec.RAW_*), split by the hash of each image's content.

  A FileBasedExampleGen: the driver fingerprints the class folders' files (INPUT_PATTERN), so
  a run with no new image is cached. Broken images are left out and counted in the Examples
  artifact's `data_quality` property, up to `folder.max_broken_fraction` of them; more, an
  unknown class folder, or a class with too few images fail the component, naming them.

  Args:
    input_base: the folder of class folders (or holding folder.manifest), or a str
      RuntimeParameter holding it.
    folder: the classes, limits and manifest, if any (config.ImageFolderConfig).
    files: the output's file layout (NUM_SHARDS, EXAMPLE_COMPRESSION).
    output_config: the train/eval hash buckets (default 2:1); the split is always by content.
  """
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.ImageExampleGenExecutor)

  def __init__(self, input_base: Union[str, data_types.RuntimeParameter],
               folder: config.ImageFolderConfig, files: Optional[ExampleFilesConfig] = None,
               output_config: Optional[example_gen_pb2.Output] = None):
    if not isinstance(input_base, data_types.RuntimeParameter) and (
        not input_base or not isinstance(input_base, str)):
      raise ValueError(f'input_base must be the folder of class folders, got {input_base!r}')
    super().__init__(
        input_base=input_base,
        input_config=example_gen_pb2.Input(splits=[
            example_gen_pb2.Input.Split(name='single_split',
                                        pattern=folder.manifest or INPUT_PATTERN)]),
        output_config=output_config,
        custom_config=config.image_custom_config(folder, files))
