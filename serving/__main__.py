"""`python -m serving [--host H]`: the serving container's server (http_server.py).
`python -m serving batch --model DIR --format jsonl|csv --output DIR FILE...`: a batch
prediction (batch.py); prints {"predicted": n, "failed": m} as its last line."""

import argparse
import json
import logging
import sys

from serving import batch as batch_lib
from serving import http_server
from serving import model as model_lib


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(prog='python -m serving', description=__doc__)
  parser.add_argument('--host', default='0.0.0.0', help='interface to listen on (Vertex AI: all)')
  commands = parser.add_subparsers(dest='command')
  batch = commands.add_parser('batch', help='predict files of raw rows')
  batch.add_argument('--model', required=True, help='the SavedModel folder (local or gs://)')
  batch.add_argument('--format', choices=batch_lib.FORMATS, required=True)
  batch.add_argument('--output', required=True, help='the folder to write the results to')
  batch.add_argument('inputs', nargs='+', help='input files (local or gs://)')
  args = parser.parse_args(argv)
  logging.basicConfig(level=logging.INFO, format='%(asctime)s %(levelname)s %(message)s')
  if args.command != 'batch':
    http_server.serve(args.host)
    return 0
  try:
    result = batch_lib.predict_files(model_lib.load(args.model), args.inputs, args.format,
                                     args.output)
  except (model_lib.ModelLoadError, batch_lib.BatchInputError) as error:
    print(f'error: {error}', file=sys.stderr)
    return 2
  print(json.dumps({'predicted': result.predicted, 'failed': result.failed}))
  return 0


if __name__ == '__main__':
  sys.exit(main())
