"""The APScheduler triggers wake the controller at the times ``decide`` will act on: for each
schedule, every time ``times.next_time`` gives is a fire time of the trigger (robfig semantics:
Sunday is 0, day-of-month OR day-of-week when both are restricted, macros, time zones with
DST). The one difference allowed: in a spring-forward gap APScheduler fires at the shifted
wall time where Kubernetes skips the run; that wake-up finds nothing due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from berth.platform.controllers.cronjob.times import next_time, zone_of
from berth.platform.controllers.cronjob.wakeups import Ahead, Wakeups, trigger_for
from berth.platform.resources.validation import cron

START = datetime(2026, 2, 26, 22, 17, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "schedule, zone",
    [
        ("* * * * *", None),
        ("*/15 9-17 * * 1-5", None),
        ("0 0 * * 0", None),  # Sundays (APScheduler alone would read Monday)
        ("0 0 1 * mon", None),  # the 1st OR a Monday
        ("30 2 * 3 *", "America/New_York"),  # through the spring-forward gap
        ("30 1 * 10,11 *", "America/New_York"),  # through the repeated autumn hour
        ("0 9 * * *", "Europe/Berlin"),
        ("@hourly", None),
        ("@monthly", "Asia/Kolkata"),
    ],
)
def test_trigger_fire_times_match_next_time(schedule, zone):
    trigger = trigger_for(schedule, zone)
    parsed, tz = cron.parse(schedule), zone_of(zone)
    fired, ours, previous, after = [], [], None, START
    for _ in range(45):
        fire = trigger.get_next_fire_time(previous, after)
        fired.append(fire.astimezone(UTC))
        previous, after = fire, fire
    for _ in range(40):
        ours.append(next_time(parsed, tz, ours[-1] if ours else START))
    assert set(ours) <= set(fired)
    extra = [f for f in fired if f not in ours and f < ours[-1]]
    assert all(_in_gap(f, tz) for f in extra), extra


def _in_gap(moment: datetime, tz) -> bool:
    """Whether ``moment`` is the first instant after a spring-forward gap in ``tz``."""
    before = (moment - timedelta(hours=1)).astimezone(tz).utcoffset()
    return before is not None and before < moment.astimezone(tz).utcoffset()


def test_wakeups_follow_suspend_and_deletion():
    woken = []
    wakeups = Wakeups(woken.append)
    cj = {
        "metadata": {"name": "a", "namespace": "ns"},
        "spec": {"schedule": "0 * * * *", "suspend": False},
    }
    wakeups.sync(("ns", "a"), cj)
    assert len(wakeups) == 1 and wakeups.scheduled(("ns", "a"))
    wakeups.sync(("ns", "a"), {**cj, "spec": {**cj["spec"], "suspend": True}})
    assert len(wakeups) == 0 and not wakeups.scheduled(("ns", "a"))
    wakeups.sync(("ns", "a"), cj)
    wakeups.sync(("ns", "a"), None)
    assert len(wakeups) == 0


def test_cronjobs_sharing_a_schedule_share_one_trigger_and_wake_together():
    woken = []
    wakeups = Wakeups(woken.append)

    def cj(name, schedule, zone=None):
        return {
            "metadata": {"name": name, "namespace": "ns"},
            "spec": {"schedule": schedule, "timeZone": zone},
        }

    for name in ("a", "b", "c"):
        wakeups.sync(("ns", name), cj(name, "*/5 * * * *"))
    wakeups.sync(("ns", "d"), cj("d", "*/5 * * * *", "Europe/Berlin"))
    wakeups.sync(("ns", "e"), cj("e", "0 * * * *"))
    triggers = {job.id: job for job in wakeups._scheduler.get_jobs()}
    assert len(wakeups) == 5 and len(triggers) == 3
    every5 = triggers["|*/5 * * * *"]
    every5.func(*every5.args)
    assert woken == [[("ns", "a"), ("ns", "b"), ("ns", "c")]]
    # Moving one away and suspending another leaves the rest on the shared trigger.
    wakeups.sync(("ns", "a"), cj("a", "0 * * * *"))
    wakeups.sync(("ns", "b"), {**cj("b", "*/5 * * * *"), "spec": {"suspend": True}})
    every5.func(*every5.args)
    assert woken[-1] == [("ns", "c")] and wakeups.scheduled(("ns", "a"))
    wakeups.sync(("ns", "c"), None)
    assert "|*/5 * * * *" not in {job.id for job in wakeups._scheduler.get_jobs()}
    assert not wakeups.scheduled(("ns", "c")) and len(wakeups) == 3


@pytest.mark.parametrize(
    "schedule, zone",
    [("* * * * *", None), ("*/15 9-17 * * 1-5", None), ("0 9 * * *", "Asia/Tokyo")],
)
def test_the_prepare_trigger_fires_its_lead_before_each_fire_time(schedule, zone):
    lead = timedelta(seconds=10)
    trigger, ahead = trigger_for(schedule, zone), Ahead(trigger_for(schedule, zone), lead)
    previous, early, after = None, None, START
    for _ in range(20):
        fire = trigger.get_next_fire_time(previous, after)
        ready = ahead.get_next_fire_time(early, after - lead)
        assert ready == fire - lead
        previous, early, after = fire, ready, fire


def test_a_schedule_gets_its_prepare_call_with_the_keys_and_the_time_they_are_due():
    prepared = []
    wakeups = Wakeups(lambda keys: None, lambda keys, at: prepared.append((keys, at)))
    cj = {"metadata": {"name": "a", "namespace": "ns"}, "spec": {"schedule": "*/5 * * * *"}}
    wakeups.sync(("ns", "a"), cj)
    jobs = {job.id: job for job in wakeups._scheduler.get_jobs()}
    assert set(jobs) == {"|*/5 * * * *", "prepare||*/5 * * * *"}
    ready = jobs["prepare||*/5 * * * *"]
    before = datetime.now(UTC)
    ready.func(*ready.args)
    [(keys, at)] = prepared
    assert keys == [("ns", "a")] and at >= before + timedelta(seconds=10)
    wakeups.sync(("ns", "a"), None)
    assert wakeups._scheduler.get_jobs() == []


def test_the_prepare_trigger_reads_in_the_log_as_its_schedule_and_lead():
    ahead = Ahead(trigger_for("*/5 * * * *", None), timedelta(seconds=10))
    assert str(ahead) == f"{trigger_for('*/5 * * * *', None)} less 10 s"
    assert "object at 0x" not in str(ahead)
