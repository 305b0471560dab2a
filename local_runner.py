"""Entry file for the tfx CLI: `tfx pipeline create --engine=local --pipeline_path=local_runner.py`
then `tfx run create --engine=local --pipeline_name=chicago-taxi`.

Reads PIPELINE_HOME / DATA_ROOT / TRAIN_STEPS like `make run`. The logic lives in
pipeline/local_runner.py; this file stays at the top so running it as a script cannot shadow the
`pipeline` package with pipeline/pipeline.py (as in the TFX taxi template).
"""

from pipeline import config
from pipeline import local_runner

local_runner.run(config.LocalConfig.from_env())
