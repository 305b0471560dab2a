"""Entry file for the tfx CLI: `tfx pipeline create --engine=local --pipeline_path=local_runner.py`
then `tfx run create --engine=local --pipeline_name=chicago-taxi`.

Reads PIPELINE_HOME / DATA_ROOT / TRAIN_STEPS like `make run`. The logic lives in
pipeline/local_runner.py; this file stays at the top so running it as a script cannot shadow the
`pipeline` package with pipeline/pipeline.py (as in the TFX taxi template).
"""

from pipeline import config
from pipeline import local_runner
from pipeline import run_lock

_config = config.LocalConfig.from_env()
with run_lock.exclusive_run(_config.pipeline_home):
  local_runner.run(_config)
