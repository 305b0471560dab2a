"""Entry file for the tfx CLI: `tfx pipeline create --engine=local --pipeline_path=local_runner.py`
then `tfx run create --engine=local --pipeline_name=chicago-taxi`.

Reads the environment like `make run` (PIPELINE_HOME, DATASET, DATA_ROOT, TRAIN_STEPS, ...:
pipeline/environment.py) and runs the graph with LocalDagRunner (pipeline/engines/local.py)
under the home's lock. This file stays at the top so running it as a script cannot shadow the
`pipeline` package with pipeline/graph.py (as in the TFX taxi template).
"""

from core.home import PipelineHome
from pipeline import environment
from pipeline import settings
from pipeline.engines import local
from runs import lock

_environment = environment.read()
_home = PipelineHome.at(_environment.pipeline_home)
with lock.exclusive_run(_home):
  local.run_graph(local.pipeline_settings(settings.run_settings(_environment), _home))
