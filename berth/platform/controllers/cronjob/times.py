"""Schedule times of a CronJob in its time zone: the next one, and the ones missed.

A schedule is read as Kubernetes reads it (``resources.validation.cron``: robfig semantics,
day-of-month OR day-of-week when both are restricted) and evaluated in wall-clock time of
``spec.timeZone`` (UTC when unset). Around daylight-saving changes it does what Kubernetes'
cron library (robfig/cron v3) does: a wall time that does not exist (the hour skipped in
spring) does not fire that day; a wall time that exists twice (the hour repeated in autumn)
fires at both instants. All results are aware UTC datetimes.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from berth.platform.resources.validation import cron

# Beyond this many missed times the count stops (the most recent one is still found).
MISSED_CAP = 100
# Windows searched back from now for the most recent time when more than MISSED_CAP were missed.
_LOOKBACK = (
    timedelta(hours=1),
    timedelta(days=1),
    timedelta(days=32),
    timedelta(days=367),
    timedelta(days=366 * 5),
)


class UnknownZone(ValueError):
    pass


def zone_of(name: str | None) -> tzinfo:
    if not name or name == "UTC":
        return UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise UnknownZone(name) from exc


@dataclass(frozen=True)
class Unmet:
    """Schedule times in (earliest, now]: the most recent, and how many (capped)."""

    most_recent: datetime | None
    count: int
    capped: bool  # more than MISSED_CAP: ``count`` is MISSED_CAP + 1


def next_time(schedule: cron.CronSchedule, zone: tzinfo, after: datetime) -> datetime | None:
    """The first schedule time strictly after ``after`` (aware), in UTC; None if never."""
    # From the wall minute of ``after`` itself: in a repeated hour its second instant is later.
    local = after.astimezone(zone).replace(tzinfo=None, fold=0, second=0, microsecond=0)
    local -= timedelta(minutes=1)
    for _ in range(10_000):  # each round moves at least a minute; gaps are at most an hour
        local = schedule.next_after(local)
        if local is None:
            return None
        if zone is UTC:  # no folds and no gaps: the common case, without the round trips
            moment = local.replace(tzinfo=UTC)
            if moment > after:
                return moment
            continue
        later = [
            m
            for m in (_to_utc(local, zone, 0), _to_utc(local, zone, 1))
            if m is not None and m > after
        ]
        if later:
            return min(later)
    return None


def unmet_times(
    schedule: cron.CronSchedule, zone: tzinfo, earliest: datetime, now: datetime
) -> Unmet:
    """The schedule times after ``earliest`` and at or before ``now``."""
    count, last, t = 0, None, earliest
    while True:
        t = next_time(schedule, zone, t)
        if t is None or t > now:
            return Unmet(last, count, False)
        count, last = count + 1, t
        if count > MISSED_CAP:
            return Unmet(_most_recent(schedule, zone, earliest, now), count, True)


def _most_recent(
    schedule: cron.CronSchedule, zone: tzinfo, earliest: datetime, now: datetime
) -> datetime | None:
    for window in _LOOKBACK:
        start = max(earliest, now - window)
        last, t = None, start
        while True:
            t = next_time(schedule, zone, t)
            if t is None or t > now:
                break
            last = t
        if last is not None:
            return last
    return None


def _to_utc(local: datetime, zone: tzinfo, fold: int) -> datetime | None:
    """The UTC instant of a naive wall time in ``zone`` (``fold`` 1: the second of two
    instants with that wall time); None when that wall time does not exist there."""
    moment = local.replace(tzinfo=zone, fold=fold).astimezone(UTC)
    back = moment.astimezone(zone)
    if back.replace(tzinfo=None, fold=0) != local.replace(fold=0):
        return None
    return moment
