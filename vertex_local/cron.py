"""Vertex AI schedule cron strings: a standard 5-field unix cron, optionally prefixed by
`TZ=<IANA zone>` or `CRON_TZ=<IANA zone>` (without one, UTC), as the Schedule proto documents.

Parsing and the next fire times are cronsim's (healthchecks.io's cron evaluator: Debian cron
semantics, strict field checks, DST-aware when given an aware start); this module adds the
time-zone prefix and Vertex's 5-field rule (no `@daily` macros, no seconds field).
"""

import dataclasses
import datetime
import functools
import re
import zoneinfo
from typing import Iterator

import cronsim

_PREFIX = re.compile(r'(CRON_TZ|TZ)=(?P<zone>\S*)')
# cronsim's "Bad minute" etc. name the field; ours say so with the user's wording.
_FIELDS = ('minute', 'hour', 'day-of-month', 'month', 'day-of-week')


class CronError(ValueError):
  """Not a cron string Vertex AI accepts; the message says what is wrong."""


@dataclasses.dataclass(frozen=True)
class Cron:
  text: str  # normalised: single spaces
  expression: str  # the 5 fields
  zone: datetime.tzinfo

  def after(self, moment: datetime.datetime) -> Iterator[datetime.datetime]:
    """Fire times strictly after `moment` (aware), in UTC."""
    local = moment.astimezone(self.zone)
    for fire in cronsim.CronSim(self.expression, local):
      yield fire.astimezone(datetime.timezone.utc)

  def next_after(self, moment: datetime.datetime) -> datetime.datetime:
    return next(self.after(moment))


def parse(text: str) -> Cron:
  parts = text.split() if isinstance(text, str) else []
  prefix = parts[:1] if parts and _PREFIX.fullmatch(parts[0]) else []
  zone: datetime.tzinfo = datetime.timezone.utc
  if prefix:
    name = _PREFIX.fullmatch(prefix[0])['zone']
    if name not in _time_zones():
      raise CronError(f'unknown time zone in {prefix[0]!r}; expected an IANA name like '
                      'TZ=America/Chicago')
    zone = zoneinfo.ZoneInfo(name)
  fields = parts[len(prefix):]
  if len(fields) != 5:
    raise CronError('expected 5 fields (minute hour day-of-month month day-of-week) after an '
                    'optional TZ=<zone>')
  expression = ' '.join(fields)
  try:
    cronsim.CronSim(expression, datetime.datetime(2000, 1, 1))
  except cronsim.CronSimError as error:
    reason = str(error)
    named = next((field for field in _FIELDS if field.replace('-', ' ') in reason.lower()
                  or field in reason.lower()), None)
    where = f'bad {named} field {fields[_FIELDS.index(named)]!r}' if named else reason
    raise CronError(f'{where}: expected *, numbers, names (JAN, MON), ranges a-b, lists a,b '
                    f'and steps */n or a-b/n ({reason})') from None
  return Cron(' '.join(prefix + fields), expression, zone)


@functools.lru_cache(maxsize=1)
def _time_zones() -> frozenset:
  return frozenset(zoneinfo.available_timezones())
