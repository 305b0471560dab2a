"""Writes examples/cars/cars.csv from vega_datasets' cars.json (the `cars` table of the vega-datasets
package, 0.9.0: 406 cars, 1970-1982; Miles_per_Gallon empty for 8 of them, Year a date).

    pip download vega_datasets==0.9.0 --no-deps -d /tmp/vega
    unzip -o /tmp/vega/vega_datasets-0.9.0-py3-none-any.whl 'vega_datasets/_data/cars.json' -d /tmp/vega
    python3 tools/cars_csv.py /tmp/vega/vega_datasets/_data/cars.json > examples/cars/cars.csv

Values are written as the JSON holds them (a JSON null is an empty cell). Standard library only.
"""

import csv
import json
import sys


def main(path: str) -> None:
  with open(path, encoding='utf-8') as f:
    rows = json.load(f)
  writer = csv.writer(sys.stdout, lineterminator='\n')
  columns = list(rows[0])
  writer.writerow(columns)
  for row in rows:
    writer.writerow(['' if row.get(name) is None else row[name] for name in columns])


if __name__ == '__main__':
  main(sys.argv[1])
