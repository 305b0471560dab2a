"""Benchmarks of the trainer input pipeline (`python -m bench.input_pipeline`, `make bench`)."""

import os

# The model and TFX's reader are Keras 2 (tf_keras); this must be set before TensorFlow is
# first imported, so the package sets it on import like `trainer` and `transform` do.
os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
