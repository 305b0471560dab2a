"""Which container Vertex AI serves a pushed model with: one function, `serving_container`, the
compiler's only source for it.

The choice: the pipeline image itself, started as `python -m serving` (the serving package:
Vertex AI's custom-container contract, AIP_HTTP_PORT / AIP_PREDICT_ROUTE / AIP_HEALTH_ROUTE /
AIP_STORAGE_URI). Why not a prebuilt TensorFlow prediction image:
- none exists for TensorFlow 2.16: aiplatform 1.165.1's list (and Vertex's documented list) of
  prebuilt prediction images stops at 2.15 (`tf2-cpu.2-15`); `tf2-cpu.2-16:latest`, which the
  Pusher named before, is not in it;
- TF Serving 2.15 would have to load a TensorFlow 2.16 SavedModel (with tf_keras 2.16 layers and
  TF Transform's graph), which TensorFlow does not promise;
- it takes serialized tf.Examples only ({"b64": ...}); this server also takes the raw rows a
  client has, encoded by the same code ExampleGen uses, so serving reads rows as training did;
- gradient-boosted tree models (TensorFlow Decision Forests) need TF-DF's ops
  (SimpleMLInferenceOpWithHandle, ...), which stock TF Serving and so no prebuilt TF image has
  (TFX's penguin_utils_tfdf_experimental.py: serving needs a TF Serving compiled with TF-DF's
  ops): the pipeline image (infra/Dockerfile) installs the locked tensorflow-decision-forests,
  and serving/model.py imports it before loading a model that uses those ops
  (core/custom_ops.py), so trees get this same image from this function.
The cost: a larger image than TF Serving's (the whole pipeline environment), so a slower first
start of a serving node. `pipeline image` = the profile's PIPELINE_IMAGE, which
infra/cloudbuild.yaml builds and pushes before any spec names it.
"""

import dataclasses
from typing import Any, Dict, Tuple

from datadefs.definition import Dataset
from pipeline.vertex.profiles import Profile

SERVING_COMMAND = ('python', '-m', 'serving')
PREDICT_ROUTE, HEALTH_ROUTE, PORT = '/predict', '/health', 8080


@dataclasses.dataclass(frozen=True)
class ServingContainer:
  image: str
  command: Tuple[str, ...]
  predict_route: str
  health_route: str
  port: int

  def to_config(self) -> Dict[str, Any]:
    """As components/vertex_pusher.py reads it from custom_config."""
    return {'image': self.image, 'command': list(self.command),
            'predict_route': self.predict_route, 'health_route': self.health_route,
            'port': self.port}


def serving_container(profile: Profile, dataset: Dataset) -> ServingContainer:
  """The container serving `dataset`'s models pushed from `profile`'s pipeline. The same for
  every model family the project trains (the image has each family's ops); `dataset` is here
  so a family that ever needs another image gets it from this one place."""
  del dataset  # Every model family loads in the pipeline image.
  return ServingContainer(profile.pipeline_image, SERVING_COMMAND, PREDICT_ROUTE, HEALTH_ROUTE,
                          PORT)
