"""Names and keys shared across layers, each spelled once: what components, the trainer, the
engines and the report read and write under the same name. Pure Python."""

import re

# custom_config keys of Transform, the Tuner and the Trainer.
DATASET_KEY = 'dataset'  # the dataset definition (datadefs.definition.Dataset.to_dict())
TRAIN_CONFIG_KEY = 'train_config'  # trainer.config.TrainConfig
TUNER_TRIALS_KEY = 'tuner_trials'  # how many trials the Tuner runs

# Custom properties on artifacts.
# The blessing (and pushed-model) property saying the candidate was the blessed baseline itself
# (components/unchanged_model.py): nothing was re-evaluated or pushed.
UNCHANGED_MODEL_KEY = 'unchanged_model'
# Which pipeline an artifact was made for (components/pipeline_scope.py).
PIPELINE_SCOPE_KEY = 'pipeline_scope'
# How an Examples artifact's files are compressed (core/example_files.py).
COMPRESSION_KEY = 'compression'

# Serving signatures of a trained model (trainer/signatures.py), by the name TFMA and clients
# call them.
SERVING_SIGNATURE = 'serving_default'  # serialized raw tf.Examples -> predictions
FEATURES_SIGNATURE = 'transform_features'  # serialized raw tf.Examples -> transformed features
LABEL_SIGNATURE = 'transform_label'  # serialized raw tf.Examples -> the transformed label
# Image datasets only: raw encoded images -> {'probabilities', 'classes'} (trainer/images/serving.py).
BYTES_SIGNATURE = 'serving_bytes'

# The dataset definition (Dataset.to_dict()) a trained model carries inside its SavedModel folder,
# so a server turns raw rows into the tf.Examples its serving signature parses (serving/).
MODEL_DATASET_FILE = 'assets.extra/dataset.json'

# Files TFX 1.16's components write inside their artifacts.
STATS_FILE = 'FeatureStats.pb'  # StatisticsGen, AnomaliesGate, Transform
SCHEMA_DIFF_FILE = 'SchemaDiff.pb'  # ExampleValidator
SCHEMA_FILE = 'schema.pbtxt'  # ImportSchemaGen, SchemaGen

# Distribution strategies a trainer may be asked for (trainer/strategy.py).
STRATEGIES = ('auto', 'default', 'mirrored', 'multi_worker', 'tpu')
# Set only by the local Vertex engine for a worker pool whose accelerators it stands CPU devices
# in for: the GPU count to split the CPU into, and '1' for a TPU.
GPU_STAND_IN_ENV = 'LOCAL_ENGINE_GPU_STAND_INS'
TPU_STAND_IN_ENV = 'LOCAL_ENGINE_TPU_STAND_IN'

# KFP v2 pipeline names (and so dataset and profile names, which become part of them).
KFP_NAME = re.compile(r'^[a-z0-9][a-z0-9-]*$')
