"""Cron schedules as Kubernetes reads them (``robfig/cron/v3`` ``ParseStandard``).

Five fields — minute, hour, day of month, month, day of week — with lists, ranges, steps and
the names ``jan``..``dec`` / ``sun``..``sat``, or one of the descriptors ``@yearly``,
``@annually``, ``@monthly``, ``@weekly``, ``@daily``, ``@midnight``, ``@hourly``. Day of week
runs 0-6 (Sunday is 0; 7 is refused, as in Kubernetes). Errors carry robfig's wording because
Kubernetes passes it through verbatim.

``@every <duration>`` is refused: Berth's cron triggers are calendar schedules only.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}
_DAYS = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
# (min, max, names) of minute, hour, day of month, month, day of week.
_BOUNDS = ((0, 59, None), (0, 23, None), (1, 31, None), (1, 12, _MONTHS), (0, 6, _DAYS))
_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_ATOI = re.compile(r"^[+-]?\d+$")


class CronError(ValueError):
    pass


@dataclass(frozen=True)
class CronSchedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool  # day of month was '*' or '?': the day fields combine with AND, else OR
    any_weekday: bool
    zone: str | None = None  # from a TZ= / CRON_TZ= prefix

    def matches(self, moment: datetime) -> bool:
        return (
            moment.minute in self.minutes
            and moment.hour in self.hours
            and moment.month in self.months
            and self._day_ok(moment)
        )

    def next_after(self, moment: datetime) -> datetime | None:
        """The first whole minute strictly after ``moment`` that matches (same tzinfo), or
        None within five years (a schedule like ``0 0 30 2 *`` never fires)."""
        t = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = t + timedelta(days=366 * 5)
        while t < limit:
            if t.month not in self.months:
                t = (t.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
                continue
            if not self._day_ok(t):
                t = t.replace(hour=0, minute=0) + timedelta(days=1)
                continue
            if t.hour not in self.hours:
                t = t.replace(minute=0) + timedelta(hours=1)
                continue
            if t.minute in self.minutes:
                return t
            t += timedelta(minutes=1)
        return None

    def _day_ok(self, t: datetime) -> bool:
        # Like cron: when both day fields are restricted, either one may match.
        day, weekday = t.day in self.days, (t.isoweekday() % 7) in self.weekdays
        return (day and weekday) if self.any_day or self.any_weekday else (day or weekday)


@functools.lru_cache(maxsize=1024)  # a pure function of the text, asked once per decision
def parse(spec: str) -> CronSchedule:
    if not spec:
        raise CronError("empty spec string")
    zone = None
    if spec.startswith(("TZ=", "CRON_TZ=")):
        head, _, rest = spec.partition(" ")
        zone = head.split("=", 1)[1]
        if not valid_zone(zone):
            raise CronError(f"provided bad location {zone}: unknown time zone {zone}")
        spec = rest.strip()
    if spec.startswith("@"):
        if spec not in _DESCRIPTORS:
            raise CronError(f"unrecognized descriptor: {spec}")
        spec = _DESCRIPTORS[spec]
    fields = spec.split()
    if len(fields) != 5:
        raise CronError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    parsed = [_field(text, bounds) for text, bounds in zip(fields, _BOUNDS, strict=True)]
    (minutes, _), (hours, _), (days, any_day), (months, _), (weekdays, any_weekday) = parsed
    return CronSchedule(minutes, hours, days, months, weekdays, any_day, any_weekday, zone)


def _field(text: str, bounds: tuple) -> tuple[frozenset[int], bool]:
    values: set[int] = set()
    star = False
    for expr in (part for part in text.split(",") if part):
        got, is_star = _range(expr, bounds)
        values |= got
        star |= is_star
    return frozenset(values), star


def _range(expr: str, bounds: tuple) -> tuple[set[int], bool]:
    low, high, names = bounds
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    star = low_and_high[0] in ("*", "?")
    if star:
        start, end = low, high
    else:
        start = _int_or_name(low_and_high[0], names)
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = _int_or_name(low_and_high[1], names)
        else:
            raise CronError(f"too many hyphens: {expr}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _int(range_and_step[1])
        if len(low_and_high) == 1:
            end = high  # "N/step" means "N-max/step"
        star = star and step <= 1
    else:
        raise CronError(f"too many slashes: {expr}")
    if start < low:
        raise CronError(f"beginning of range ({start}) below minimum ({low}): {expr}")
    if end > high:
        raise CronError(f"end of range ({end}) above maximum ({high}): {expr}")
    if start > end:
        raise CronError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise CronError(f"step of range should be a positive number: {expr}")
    return set(range(start, end + 1, step)), star


def _int_or_name(text: str, names: dict | None) -> int:
    if names and text.lower() in names:
        return names[text.lower()]
    return _int(text)


def _int(text: str) -> int:
    if not _ATOI.match(text):
        raise CronError(
            f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": invalid syntax'
        )
    number = int(text)
    if number < 0:
        raise CronError(f"negative number ({number}) not allowed: {text}")
    return number


def valid_zone(name: str) -> bool:
    """Whether Go's ``time.LoadLocation`` would find ``name`` in the IANA database."""
    if name == "UTC":
        return True
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True
