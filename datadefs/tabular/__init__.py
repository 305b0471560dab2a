"""The tabular data kind's own parts below the pipeline: the one CSV reader (csv_files.py), the
tf.Example encoding of its rows (examples.py), the pre-check of its files (checks.py) and what
`dataset init` infers from a sample (inference.py)."""
