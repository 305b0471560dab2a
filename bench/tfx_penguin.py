"""Eval accuracy and wall seconds of TFX's own penguin example on the Palmer penguins rows.

The example is `penguin_pipeline_local.py` with the Keras module file `penguin_utils_keras.py`,
both unmodified from the installed tfx package. Accuracy varies run to run by a few points (no
seeds in the example), so `--repeats N` runs it N times and records each value and the mean;
`seconds` is the first (cold) run's LocalDagRunner time, later in-process runs are faster.

  python -m bench.tfx_penguin [--repeats N] [--tfx-rows]   (writes bench/results/tfx_penguin.json)

Data: TFX does not ship `penguins_processed.csv`, so it is rebuilt from the `palmerpenguins`
package's `penguins.csv` the way TFX made it (checked against tensorflow/tfx
`tfx/examples/penguin/data/labelled/penguins_processed.csv`): columns species, culmen_length_mm,
culmen_depth_mm, flipper_length_mm, body_mass_g (bill_* renamed culmen_*), species as 0/1/2
(Adelie, Chinstrap, Gentoo), rows sorted by species (stable), and each feature min-max scaled to
[0, 1] over the kept rows, as TFX's file is (its first row, 39.1/18.7/181/3750 mm/g, is
0.2545.../0.6666.../0.1525.../0.2916...). By default rows missing any of those five columns are
dropped: 342 of 344 rows. TFX's own file has 334 rows: it came from a copy of the data with culmen_*
names whose `sex` was also required (and one Gentoo row's sex was '.', not NA); `--tfx-rows` drops
those rows too, which reproduces TFX's file exactly (same 25,648 bytes, first and last rows).

Pipeline: `create_pipeline(...)` from the example, with the arguments TFX's own e2e test
(`penguin_pipeline_local_e2e_test.py`) uses (no Tuner, BulkInferrer, ExampleDiff or transform
cache), the example's `accuracy_threshold=0.6` from its __main__, its 100 train / 5 eval steps,
and in-process Beam with one worker; run by LocalDagRunner in this process, in a fresh temporary
pipeline root and MLMD each repeat. The accuracy is the Evaluator's overall-slice
`sparse_categorical_accuracy` on CsvExampleGen's eval split (TFX's default 2:1 hash split).
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, Tuple

import bench

_RESULTS = Path(__file__).resolve().parent / 'results' / 'tfx_penguin.json'
_PIPELINE_NAME = 'penguin_local_keras'
_FEATURES = {'bill_length_mm': 'culmen_length_mm', 'bill_depth_mm': 'culmen_depth_mm',
             'flipper_length_mm': 'flipper_length_mm', 'body_mass_g': 'body_mass_g'}
_SPECIES = {'Adelie': 0, 'Chinstrap': 1, 'Gentoo': 2}
# The one row whose sex is NA in palmerpenguins but '.' in the copy TFX processed (kept by TFX).
_TFX_DOT_SEX_ROW = {'species': 'Gentoo', 'bill_length_mm': 44.5, 'bill_depth_mm': 15.7,
                    'flipper_length_mm': 217, 'body_mass_g': 4875}
_BEAM_ARGS = ['--direct_running_mode=in_memory', '--direct_num_workers=1']


def _example_dir() -> Path:
  import tfx  # pylint: disable=import-outside-toplevel
  return Path(tfx.__file__).resolve().parent / 'examples' / 'penguin'


def write_processed_csv(data_root: Path, tfx_rows: bool) -> int:
  """Writes <data_root>/labelled/penguins_processed.csv as TFX made it; returns its row count."""
  import pandas as pd  # pylint: disable=import-outside-toplevel
  import palmerpenguins  # pylint: disable=import-outside-toplevel
  raw = pd.read_csv(Path(palmerpenguins.__file__).parent / 'data' / 'penguins.csv')
  required = ['species', *_FEATURES]
  if tfx_rows:
    is_dot_row = (raw[list(_TFX_DOT_SEX_ROW)] == pd.Series(_TFX_DOT_SEX_ROW)).all(axis=1)
    raw.loc[is_dot_row, 'sex'] = '.'
    required.append('sex')
  kept = raw.dropna(subset=required)
  features = kept[list(_FEATURES)]
  scaled = (features - features.min()) / (features.max() - features.min())
  scaled.insert(0, 'species', kept['species'].map(_SPECIES))
  if scaled['species'].isna().any():
    raise ValueError(f'unknown species in {sorted(set(kept["species"]))}')
  scaled = scaled.sort_values('species', kind='stable').rename(columns=_FEATURES)
  out = data_root / 'labelled' / 'penguins_processed.csv'
  out.parent.mkdir(parents=True)
  scaled.to_csv(out, index=False)
  return len(scaled)


def build_pipeline(workdir: Path, data_root: Path):
  """The example's pipeline, as TFX's own e2e test builds it, under `workdir`."""
  if str(_example_dir()) not in sys.path:
    sys.path.insert(0, str(_example_dir()))
  import penguin_pipeline_local  # pylint: disable=import-outside-toplevel,import-error
  tfx_root = workdir / 'tfx'
  return penguin_pipeline_local.create_pipeline(
      pipeline_name=_PIPELINE_NAME,
      pipeline_root=str(tfx_root / 'pipelines' / _PIPELINE_NAME),
      data_root=str(data_root),
      module_file=str(_example_dir() / 'penguin_utils_keras.py'),
      accuracy_threshold=0.6,
      serving_model_dir=str(workdir / 'serving_model' / _PIPELINE_NAME),
      metadata_path=str(tfx_root / 'metadata' / _PIPELINE_NAME / 'metadata.db'),
      user_provided_schema_path=None,
      enable_tuning=False,
      enable_bulk_inferrer=False,
      examplegen_input_config=None,
      examplegen_range_config_date=None,
      resolver_range_config=None,
      beam_pipeline_args=_BEAM_ARGS,
      enable_transform_input_cache=False,
      enable_example_diff=False)


def trainer_steps(pipeline) -> Tuple[int, int]:
  """(train, eval) steps the example gives its Trainer."""
  trainer = next(c for c in pipeline.components if c.id == 'Trainer')
  # The component holds its TrainArgs/EvalArgs protos as JSON strings.
  return tuple(json.loads(trainer.exec_properties[name])['num_steps']
               for name in ('train_args', 'eval_args'))


def split_rows(pipeline_root: Path) -> Dict[str, int]:
  """Examples per split in CsvExampleGen's output."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  counts = {}
  for split in sorted(pipeline_root.glob('CsvExampleGen/examples/*/Split-*')):
    files = [str(f) for f in split.iterdir()]
    dataset = tf.data.TFRecordDataset(files, compression_type='GZIP')
    counts[split.name[len('Split-'):]] = int(dataset.reduce(0, lambda n, _: n + 1))
  return counts


def eval_accuracy(pipeline_root: Path) -> float:
  """The Evaluator's overall sparse_categorical_accuracy."""
  from runs.summary import eval_metrics as read_eval_metrics  # pylint: disable=import-outside-toplevel
  evaluations = sorted(pipeline_root.glob('Evaluator/evaluation/*'))
  if not evaluations:
    raise RuntimeError(f'no Evaluator output under {pipeline_root}')
  metrics = read_eval_metrics(str(evaluations[-1]))
  if 'sparse_categorical_accuracy' not in metrics:
    raise RuntimeError(f'no sparse_categorical_accuracy in {sorted(metrics)}')
  return metrics['sparse_categorical_accuracy']


def run_once(tfx_rows: bool) -> dict:
  """One run of the example from an empty pipeline root and MLMD."""
  from tfx import v1 as tfx  # pylint: disable=import-outside-toplevel
  with tempfile.TemporaryDirectory(prefix='bench-tfx-penguin-') as tmp:
    workdir = Path(tmp)
    rows = write_processed_csv(workdir / 'data', tfx_rows)
    pipeline = build_pipeline(workdir, workdir / 'data')
    started = time.monotonic()
    tfx.orchestration.LocalDagRunner().run(pipeline)
    seconds = time.monotonic() - started
    root = Path(pipeline.pipeline_info.pipeline_root)
    return {'rows': rows, 'split_rows': split_rows(root), 'steps': trainer_steps(pipeline),
            'eval_accuracy': eval_accuracy(root), 'seconds': round(seconds, 1)}


def summarize(runs: list, tfx_rows: bool) -> dict:
  import tfx  # pylint: disable=import-outside-toplevel
  accuracies = [run['eval_accuracy'] for run in runs]
  seconds = [run['seconds'] for run in runs]
  train_steps, eval_steps = runs[0]['steps']
  result = {
      'command': 'python -m bench.tfx_penguin' + (f' --repeats {len(runs)}' if len(runs) > 1
                                                   else '') + (' --tfx-rows' if tfx_rows else ''),
      'tfx_version': tfx.__version__, 'rows': runs[0]['rows'],
      'train_rows': runs[0]['split_rows'].get('train'),
      'eval_rows': runs[0]['split_rows'].get('eval'),
      'eval_accuracy': round(statistics.mean(accuracies), 4),
      'seconds': seconds[0],
      'train_steps': train_steps, 'eval_steps': eval_steps,
      'load_average_after': os.getloadavg()}
  if len(runs) > 1:
    result.update(eval_accuracies=[round(a, 4) for a in accuracies], seconds_per_run=seconds,
                  eval_accuracy_stdev=round(statistics.stdev(accuracies), 4))
  return result


_NOTES = ('TFX penguin example (penguin_pipeline_local.create_pipeline + penguin_utils_keras.py, '
          'unmodified, installed package) as its e2e test configures it: no Tuner/BulkInferrer/'
          'ExampleDiff/transform cache; in-memory DirectRunner, 1 worker. Data rebuilt from '
          'palmerpenguins penguins.csv like TFX penguins_processed.csv: culmen_* names, species '
          '0/1/2, features min-max scaled to [0,1], sorted by species; {rows}. Accuracy: '
          'Evaluator overall sparse_categorical_accuracy on the eval split (mean over repeats); '
          'seconds: LocalDagRunner.run wall time of the first run (later in-process runs are '
          'faster: imports and tracing are warm), excluding data prep.')


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--repeats', type=int, default=1, help='independent runs (default 1)')
  parser.add_argument('--tfx-rows', action='store_true',
                      help="keep only TFX's 334 rows (also drop rows missing sex)")
  args = parser.parse_args(argv)
  if args.repeats < 1:
    parser.error('--repeats must be >= 1')
  runs = [run_once(args.tfx_rows) for _ in range(args.repeats)]
  result = summarize(runs, args.tfx_rows)
  result['notes'] = _NOTES.format(
      rows="TFX's 334 rows (rows missing sex dropped too)" if args.tfx_rows else
      'rows missing species or a feature dropped (342 of 344)')
  bench.write_results(_RESULTS, result)
  return 0


if __name__ == '__main__':
  sys.exit(main())
