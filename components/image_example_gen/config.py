"""What the image ExampleGen needs of the definition, carried in its custom_config beside the
file layout (components/sharded_executors.example_gen_custom_config), under its own key."""

import dataclasses
from typing import Any, Mapping, Optional, Tuple

from google.protobuf import struct_pb2
from tfx.proto import example_gen_pb2
from tfx.types import standard_component_specs
from tfx.utils import proto_utils

from components import sharded_executors
from core.example_files import ExampleFilesConfig
from datadefs.images.spec import ImageSpec

IMAGES_KEY = 'images'


class ImageInputError(ValueError):
  """The image folder cannot be used; the message names the folders or files at fault."""


@dataclasses.dataclass(frozen=True)
class ImageFolderConfig:
  """The classes (their folders' names) and the definition's limits (datadefs/images/spec.py)."""
  classes: Tuple[str, ...]
  max_broken_fraction: float = ImageSpec.max_broken_fraction
  min_images_per_class: int = ImageSpec.min_images_per_class
  # A CSV in input_base listing the images (datadefs/images/manifest.py); '': class folders.
  manifest: str = ''

  def __post_init__(self):
    if len(self.classes) < 2 or not all(isinstance(name, str) and name for name in self.classes):
      raise ImageInputError(f'classes must be two or more class folder names, got '
                            f'{list(self.classes)!r}')

  def image_spec(self) -> ImageSpec:
    return ImageSpec(max_broken_fraction=self.max_broken_fraction,
                     min_images_per_class=self.min_images_per_class)


def image_custom_config(folder: ImageFolderConfig,
                        files: Optional[ExampleFilesConfig] = None) -> example_gen_pb2.CustomConfig:
  """custom_config carrying the file layout and `folder`."""
  custom_config = sharded_executors.example_gen_custom_config(files or ExampleFilesConfig())
  values = struct_pb2.Struct()
  custom_config.custom_config.Unpack(values)
  values.update({IMAGES_KEY: {'classes': list(folder.classes),
                              'max_broken_fraction': folder.max_broken_fraction,
                              'min_images_per_class': folder.min_images_per_class,
                              'manifest': folder.manifest}})
  custom_config.custom_config.Pack(values)
  return custom_config


def folder_config(exec_properties: Mapping[str, Any]) -> ImageFolderConfig:
  text = exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY)
  values = struct_pb2.Struct()
  custom_config = example_gen_pb2.CustomConfig()
  if text:
    proto_utils.json_to_proto(text, custom_config)
  if not custom_config.custom_config.Unpack(values) or IMAGES_KEY not in values:
    raise ImageInputError('the image ExampleGen custom_config has no classes: build it with '
                          'components/image_example_gen.image_custom_config')
  images = values[IMAGES_KEY]
  return ImageFolderConfig(classes=tuple(str(name) for name in images['classes']),
                           max_broken_fraction=float(images['max_broken_fraction']),
                           min_images_per_class=int(images['min_images_per_class']),
                           manifest=str(images['manifest']) if 'manifest' in images else '')
