"""ImageExampleGen: a folder with one subfolder per class -> one tf.Example per image.

Each example holds the file's original encoded bytes (never re-encoded), its format, decoded
height and width, the class name and the SHA-256 of the bytes (datadefs/images/spec.py RAW_*).
The train/eval split hashes that content hash: a duplicate image cannot be in both splits, and
renaming a file does not move it. Every image is decoded once, fully, to verify it.

    ImageExampleGen(
        input_base=data_root,
        folder=ImageFolderConfig(classes=dataset.label.classes, max_broken_fraction=0.01,
                                 min_images_per_class=5),
        files=ExampleFilesConfig(num_shards=8, compression='gzip'),
    ).with_id('ImageExampleGen')
"""

from components.image_example_gen.component import ImageExampleGen
from components.image_example_gen.config import ImageFolderConfig, ImageInputError
from components.image_example_gen.executor import ImageExampleGenExecutor

__all__ = ['ImageExampleGen', 'ImageExampleGenExecutor', 'ImageFolderConfig', 'ImageInputError']
