"""Entry file for the tfx CLI: `tfx pipeline create --engine=vertex
--pipeline_path=kubeflow_v2_runner.py`, then `tfx run create --engine=vertex`.

Compiles the profile named by PROFILE (default vertex-cpu) with the identity in GCP_PROJECT,
GCS_BUCKET, ... (pipeline/environment.py, pipeline/vertex/profiles.py) into
build/pipeline-<profile>.json.
"""

from core.home import PipelineHome
from pipeline import environment
from pipeline import settings
from pipeline.vertex import commands

_environment = environment.read()
commands.compile_profile(None, settings.run_settings(_environment), _environment,
                         PipelineHome.at(_environment.pipeline_home), example_identity=False)
