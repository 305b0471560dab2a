"""A `date` column's features, as TF ops in the preprocessing_fn (so the serving signature
computes them the same way): the year as a number (z-scored), the month (1-12) and ISO day of
week (1 Monday - 7 Sunday) as ids, and the hour (0-23, as ids 1-24) when the values carry a
time. A missing or unreadable date is id 0 in each and a year of the mean (z-score 0).

A date is read as text, year first, whatever separates the numbers: '2024-05-31',
'2024/05/31', '2024-05-31T13:45:00', '2024-05-31 13:45 UTC' (an offset after the time is not
applied: the hour is the one written). An int column holds whole seconds since 1970-01-01 UTC.
Calendar arithmetic: Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian),
in int64 ops.
"""

from typing import Dict, Tuple

import tensorflow as tf

from datadefs.definition import Column, transformed_name
from transform.missing import fill_in_missing

_SECONDS_PER_DAY = 86400


def features(value, column: Column, z_score) -> Dict[str, tf.Tensor]:
  """{transformed name: feature} of a date column; `z_score` scores a sparse [batch, 1] column
  (missing rows score 0), as the numeric role does (transform/tabular.py)."""
  if value.dtype == tf.string:
    year, month, day, hour, present = _from_text(fill_in_missing(value, ''))
    days = _days_from_civil(year, month, day)
  else:
    seconds = tf.cast(fill_in_missing(value, 0), tf.int64)
    present = _present(value)
    days = tf.math.floordiv(seconds, _SECONDS_PER_DAY)
    hour = tf.math.floordiv(seconds - days * _SECONDS_PER_DAY, 3600)
    year, month, _ = _civil_from_days(days)
  weekday = tf.math.floormod(days + 3, 7) + 1  # 1970-01-01 was a Thursday (4)
  present_rows = tf.where(present)
  years = tf.SparseTensor(
      tf.concat([present_rows, tf.zeros_like(present_rows)], axis=1),
      tf.cast(tf.boolean_mask(year, present), tf.float32),
      tf.stack([tf.shape(year, out_type=tf.int64)[0], tf.constant(1, tf.int64)]))
  found = {
      'year': z_score(years),
      'month': tf.where(present, tf.clip_by_value(month, 1, 12), tf.zeros_like(month)),
      'weekday': tf.where(present, weekday, tf.zeros_like(weekday)),
  }
  if column.hour:
    found['hour'] = tf.where(present, tf.clip_by_value(hour, 0, 23) + 1, tf.zeros_like(hour))
  return {transformed_name(f'{column.name}_{part}'): feature for part, feature in found.items()}


def _present(value) -> tf.Tensor:
  """Which rows have a value."""
  if not isinstance(value, tf.sparse.SparseTensor):
    return tf.ones(tf.shape(tf.reshape(value, [-1])), tf.bool)
  return tf.cast(fill_in_missing(tf.sparse.map_values(tf.ones_like, value), 0), tf.bool)


def _from_text(text) -> Tuple[tf.Tensor, ...]:
  """(year, month, day, hour, present) of each text: its first four numbers."""
  numbers = tf.strings.split(tf.strings.strip(tf.strings.regex_replace(text, '[^0-9]+', ' ')))
  numbers = numbers.to_tensor(default_value='0', shape=[None, 4])
  # As floats first: a number too long for int64 must not fail the whole batch.
  parts = tf.cast(tf.minimum(tf.strings.to_number(numbers, tf.float32), 1e6), tf.int64)
  year, month, day, hour = (parts[:, index] for index in range(4))
  present = (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)
  return year, month, day, hour, present


def _days_from_civil(year, month, day) -> tf.Tensor:
  year = year - tf.cast(month <= 2, tf.int64)
  era = tf.math.floordiv(year, 400)
  year_of_era = year - era * 400
  day_of_year = tf.math.floordiv(153 * tf.math.floormod(month + 9, 12) + 2, 5) + day - 1
  day_of_era = (year_of_era * 365 + tf.math.floordiv(year_of_era, 4) -
                tf.math.floordiv(year_of_era, 100) + day_of_year)
  return era * 146097 + day_of_era - 719468


def _civil_from_days(days) -> Tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
  shifted = days + 719468
  era = tf.math.floordiv(shifted, 146097)
  day_of_era = shifted - era * 146097
  year_of_era = tf.math.floordiv(
      day_of_era - tf.math.floordiv(day_of_era, 1460) + tf.math.floordiv(day_of_era, 36524) -
      tf.math.floordiv(day_of_era, 146096), 365)
  day_of_year = day_of_era - (365 * year_of_era + tf.math.floordiv(year_of_era, 4) -
                              tf.math.floordiv(year_of_era, 100))
  month_index = tf.math.floordiv(5 * day_of_year + 2, 153)
  day = day_of_year - tf.math.floordiv(153 * month_index + 2, 5) + 1
  month = tf.where(month_index < 10, month_index + 3, month_index - 9)
  year = year_of_era + era * 400 + tf.cast(month <= 2, tf.int64)
  return year, month, day
