"""The pipeline graph, its config, runners and the command line."""

import os

# TFT's Keras layer and TFX's Keras code are Keras 2 (tf_keras); this must be set before
# TensorFlow is first imported, so every package that reaches TensorFlow sets it on import.
os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
