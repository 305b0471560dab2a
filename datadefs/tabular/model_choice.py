"""The model `dataset init` proposes for a table, with its reason, from the sample's size and
shape. The rule, simply:

- fewer than TREES_BELOW_ROWS labelled rows: gradient-boosted trees. On small tables they learn
  from few rows where a network overfits or stays at the prior, and need no tuning of layers,
  penalty or passes;
- otherwise, more than half the features categorical (vocabulary or integer ids): trees, which
  split on categories directly where a network learns an embedding per id;
- otherwise (many rows, mostly numbers): the network (`mlp`), which trains on GPUs, TPUs and
  several workers, where trees train on one machine's CPU (trainer/trees.py).
"""

from typing import Sequence, Tuple

TREES = 'gradient_boosted_trees'
NETWORK = 'mlp'
TREES_BELOW_ROWS = 20_000
CATEGORICAL_ROLES = ('vocabulary', 'integer_id')


def propose(roles: Sequence[str], labelled_rows: int, sample_is_whole: bool = True
            ) -> Tuple[str, str]:
  """(model name, why) for a table whose feature columns have `roles` (the label and ignored
  columns left out) and whose sample holds `labelled_rows` rows with a label
  (`sample_is_whole`: the sample is the whole file, not its first rows)."""
  features = [role for role in roles if role != 'ignored']
  categorical = sum(role in CATEGORICAL_ROLES for role in features)
  if labelled_rows < TREES_BELOW_ROWS:
    return TREES, (f'{labelled_rows} labelled rows (under {TREES_BELOW_ROWS:,}): trees learn '
                   'small tables where a network overfits')
  if features and categorical * 2 > len(features):
    return TREES, (f'{categorical} of {len(features)} features are categorical: trees split on '
                   'categories directly')
  rows = f'{labelled_rows:,}' + ('' if sample_is_whole else ' or more')
  return NETWORK, (f'{rows} labelled rows, {len(features) - categorical} of {len(features)} '
                   'features numeric: the network scales with rows (GPUs, TPUs, several '
                   f'workers); set model = "{TREES}" to try trees (one machine\'s CPU)')


def with_model_line(toml: str, model: str, why: str) -> str:
  """The definition's text with `model = "<model>"  # <why>` among its top-level keys (before
  its first table)."""
  lines = toml.split('\n')
  first_table = next(index for index, line in enumerate(lines) if line.startswith('['))
  # Before the blank line that opens the first table.
  at = first_table - 1 if first_table and not lines[first_table - 1] else first_table
  lines.insert(at, f'model = "{model}"  # proposed by init: {why}')
  return '\n'.join(lines)
