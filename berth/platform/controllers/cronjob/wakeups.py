"""APScheduler as the CronJob controller's alarm clock: one trigger per schedule, nothing more.

The store is the truth: triggers live in APScheduler's in-memory job store only (never a shared
one, which its documentation forbids), are rebuilt from the CronJob objects whenever this
process starts leading, and do nothing but hand the keys of the CronJobs sharing a schedule
(and time zone) to the controller, in one call, at the instant a run is due. What to run is
decided by ``decide`` from the objects, so a trigger that fires late, twice or not at all
changes nothing but timing: ``misfire_grace_time=None`` (a late wake-up is still delivered),
``coalesce=True`` (several late wake-ups are one), ``max_instances`` high (a wake-up never
waits for another).

Schedules are translated from Kubernetes' reading (``validation.cron``) to APScheduler fields
value by value: day of week by name (APScheduler counts Monday as 0, cron Sunday), and when both
day fields are restricted cron means "either", which is an ``OrTrigger`` of two.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from berth.platform.controllers.cronjob.times import UnknownZone, zone_of
from berth.platform.resources.meta import dig
from berth.platform.resources.validation import cron

log = logging.getLogger(__name__)

_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")

Key = tuple[str, str]  # a CronJob's (namespace, name)


def trigger_for(schedule: str, zone_name: str | None):
    """The APScheduler trigger that fires at the schedule's times; raises ``CronError`` or
    ``UnknownZone``."""
    parsed = cron.parse(schedule)
    zone = zone_of(parsed.zone or zone_name)
    common = dict(
        minute=_list(parsed.minutes),
        hour=_list(parsed.hours),
        month=_list(parsed.months),
        timezone=zone,
    )
    days, weekdays = _list(parsed.days), ",".join(_DAY_NAMES[d] for d in sorted(parsed.weekdays))
    if parsed.any_day or parsed.any_weekday:
        return CronTrigger(day=days, day_of_week=weekdays, **common)
    return OrTrigger([CronTrigger(day=days, **common), CronTrigger(day_of_week=weekdays, **common)])


def _list(values: frozenset[int]) -> str:
    return ",".join(str(v) for v in sorted(values))


class Ahead(BaseTrigger):
    """Fires ``lead`` before each fire time of ``trigger``."""

    def __init__(self, trigger: BaseTrigger, lead: timedelta):
        self.trigger, self.lead = trigger, lead

    def get_next_fire_time(self, previous_fire_time, now):
        previous = None if previous_fire_time is None else previous_fire_time + self.lead
        following = self.trigger.get_next_fire_time(previous, now + self.lead)
        return None if following is None else following - self.lead

    def __str__(self) -> str:  # APScheduler logs each run with its trigger
        return f"{self.trigger} less {self.lead.total_seconds():g} s"


class Wakeups:
    """One APScheduler job per distinct (schedule, time zone), not per CronJob: its trigger
    wakes all the CronJobs that share it in one call, ``wake(keys)``, so a thousand CronJobs
    due at the same instant are one wake-up (and their Jobs can be made together), and the
    scheduler computes one next fire time per schedule instead of one per CronJob.

    With ``prepare``, a second job per schedule calls ``prepare(keys, at)`` ``lead`` before
    each fire time ``at``: time to get ready (build the Jobs) off the due instant."""

    def __init__(
        self,
        wake: Callable[[list[Key]], None],
        prepare: Callable[[list[Key], datetime], None] | None = None,
        lead: timedelta = timedelta(seconds=10),
    ):
        self._wake = wake
        self._prepare = prepare
        self._lead = lead
        self._seen: dict[Key, tuple] = {}  # key -> (schedule, zone)
        self._groups: dict[tuple, dict[Key, None]] = {}  # (schedule, zone) -> keys
        self._lock = threading.Lock()
        self._scheduler = BackgroundScheduler(
            timezone="UTC",
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1000},
        )

    def start(self) -> None:
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    @property
    def running(self) -> bool:
        return self._scheduler.running

    def __len__(self) -> int:
        return len(self._seen)

    def sync(self, key: tuple[str, str], cj: dict | None) -> None:
        """Make the trigger of ``key`` match the CronJob (None: it is gone)."""
        with self._lock:
            self._sync(key, cj)

    def _sync(self, key: tuple[str, str], cj: dict | None) -> None:
        wanted = None
        if (
            cj is not None
            and not dig(cj, "spec", "suspend")
            and not dig(cj, "metadata", "deletionTimestamp")
        ):
            wanted = (dig(cj, "spec", "schedule"), dig(cj, "spec", "timeZone"))
        old = self._seen.get(key)
        if old == wanted:
            return
        if old is not None:
            self._leave(key, old)
        if wanted is None:
            return
        self._seen[key] = wanted
        group = self._groups.get(wanted)
        if group is not None:
            group[key] = None
            return
        self._groups[wanted] = {key: None}
        try:
            trigger = trigger_for(*wanted)
        except (cron.CronError, UnknownZone) as exc:
            # The controller records why (an Event); there is nothing to wake up for.
            log.info("cronjob %s: no trigger (%s)", "/".join(key), exc)
            return
        self._scheduler.add_job(
            self._fire, trigger, args=[wanted], id=_group_id(wanted), replace_existing=True
        )
        if self._prepare is not None:
            self._scheduler.add_job(
                self._ready,
                Ahead(trigger, self._lead),
                args=[wanted],
                id=_prepare_id(wanted),
                replace_existing=True,
            )

    def _leave(self, key: Key, wanted: tuple) -> None:
        del self._seen[key]
        group = self._groups[wanted]
        group.pop(key, None)
        if not group:
            del self._groups[wanted]
            for job_id in (_group_id(wanted), _prepare_id(wanted)):
                if self._scheduler.get_job(job_id):
                    self._scheduler.remove_job(job_id)

    def _fire(self, wanted: tuple) -> None:
        with self._lock:
            keys = list(self._groups.get(wanted) or ())
        if keys:
            self._wake(keys)

    def _ready(self, wanted: tuple) -> None:
        with self._lock:
            keys = list(self._groups.get(wanted) or ())
        if keys and self._prepare is not None:
            # The fire time this call is ahead of (for a late call, a moment after it: the
            # same run is due then).
            self._prepare(keys, datetime.now(UTC) + self._lead)

    def scheduled(self, key: tuple[str, str]) -> bool:
        """Whether ``key`` has a trigger."""
        with self._lock:
            wanted = self._seen.get(key)
        return wanted is not None and self._scheduler.get_job(_group_id(wanted)) is not None


def _group_id(wanted: tuple) -> str:
    schedule, zone = wanted
    return f"{zone or ''}|{schedule}"


def _prepare_id(wanted: tuple) -> str:
    return f"prepare|{_group_id(wanted)}"
