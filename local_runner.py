"""Entry file for the tfx CLI: `tfx pipeline create --engine=local --pipeline_path=local_runner.py`
then `tfx run create --engine=local --pipeline_name=chicago-taxi`.

Reads PIPELINE_HOME / DATA_ROOT / TRAIN_STEPS like `make run`. The logic lives in
pipeline/local/dag_runner.py; this file stays at the top so running it as a script cannot shadow the
`pipeline` package with pipeline/graph.py (as in the TFX taxi template).
"""

from pipeline.local import config
from pipeline.local import dag_runner
from pipeline.local import run_lock

_config = config.LocalConfig.from_env()
with run_lock.exclusive_run(_config.pipeline_home):
  dag_runner.run(_config)
