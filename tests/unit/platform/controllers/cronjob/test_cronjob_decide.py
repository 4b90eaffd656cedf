"""The CronJob decision function, table-driven with an injected clock (in the manner of
Kubernetes' cronjob_controllerv2_test.go ``TestControllerV2SyncCronJob``)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from berth.platform.controllers.cronjob.decide import decide
from berth.platform.controllers.cronjob.jobs import job_name
from tests.unit.platform.controllers.cronjob.builders import a_cronjob, a_job, t


def reasons(decision):
    return [e.reason for e in decision.events]


# (case, cronjob kwargs, jobs, now, expected create_for, expected event reasons, deleted active)
CASES = [
    ("never ran, not yet time", dict(created="09:00:30"), [], "09:00:50", None, [], []),
    ("never ran, is time", dict(created="09:00:30"), [], "09:01:00.2", "09:01", [], []),
    ("ran, not yet time", dict(last="09:01"), [], "09:01:40", None, [], []),
    ("ran, is time", dict(last="09:01"), [], "09:02:00.01", "09:02", [], []),
    (
        "still active, Allow",
        dict(last="09:01", policy="Allow", active=[a_job("09:01")]),
        [a_job("09:01")],
        "09:02:01",
        "09:02",
        [],
        [],
    ),
    (
        "still active, Forbid",
        dict(last="09:01", policy="Forbid", active=[a_job("09:01")]),
        [a_job("09:01")],
        "09:02:01",
        None,
        ["JobAlreadyActive"],
        [],
    ),
    (
        "still active, Replace",
        dict(last="09:01", policy="Replace", active=[a_job("09:01")]),
        [a_job("09:01")],
        "09:02:01",
        "09:02",
        [],
        [job_name("cj", t("09:01"))],
    ),
    (
        "active finished, Forbid runs",
        dict(last="09:01", policy="Forbid", active=[a_job("09:01")]),
        [a_job("09:01", state="Complete", finished="09:01:30")],
        "09:02:01",
        "09:02",
        ["SawCompletedJob"],
        [],
    ),
    ("suspended, is time", dict(last="09:01", suspend=True), [], "09:05:00", None, [], []),
    (
        "long overdue, no deadline: warning, still runs the latest",
        dict(last="06:00"),
        [],
        "09:30:10",
        "09:30",
        ["TooManyMissedTimes"],
        [],
    ),
    (
        "long overdue within deadline: the latest, no warning",
        dict(last="06:00", deadline=200),
        [],
        "09:30:10",
        "09:30",
        [],
        [],
    ),
    (
        "deadline passed for the only missed time",
        dict(schedule="0 * * * *", last="09:00", deadline=60),
        [],
        "10:05:00",
        None,
        ["MissSchedule"],
        [],
    ),
    (
        "deadline not passed",
        dict(schedule="0 * * * *", last="09:00", deadline=600),
        [],
        "10:05:00",
        "10:00",
        [],
        [],
    ),
    ("time drifted back", dict(last="09:10"), [], "09:05:30", None, [], []),
    (
        "run already made (status write lost)",
        dict(last="09:01"),
        [a_job("09:02")],
        "09:02:10",
        None,
        [],
        [],
    ),
    (
        "active job went missing",
        dict(last="09:02", active=[a_job("09:02")]),
        [],
        "09:02:30",
        None,
        ["MissingJob"],
        [],
    ),
    ("unknown time zone", dict(zone="Mars/Olympus"), [], "09:05:00", None, ["UnknownTimeZone"], []),
]


@pytest.mark.parametrize(
    "case, kwargs, children, now, create_for, events, deleted", CASES, ids=[c[0] for c in CASES]
)
def test_decide(case, kwargs, children, now, create_for, events, deleted):
    decision = decide(a_cronjob(**kwargs), children, t(now))
    assert decision.create_for == (t(create_for) if create_for else None)
    assert reasons(decision) == events
    assert decision.delete_active == deleted
    if create_for:
        assert decision.lateness == pytest.approx((t(now) - t(create_for)).total_seconds())


def test_requeue_is_just_after_the_next_time():
    decision = decide(a_cronjob(last="09:01"), [], t("09:01:40"))
    assert decision.next_run == t("09:02")
    assert decision.requeue_after == pytest.approx(20, abs=0.01)
    assert decision.requeue_after > 20


def test_suspended_still_knows_its_next_time():
    decision = decide(a_cronjob(last="09:01", suspend=True), [], t("09:01:40"))
    assert decision.next_run == t("09:02") and decision.create_for is None


def test_missed_count_is_reported_for_a_run_after_downtime():
    decision = decide(a_cronjob(last="09:00"), [], t("09:10:05"))
    assert decision.create_for == t("09:10")
    assert decision.missed == 9  # 09:01 .. 09:09 passed over
    assert decision.lateness == pytest.approx(5)


def test_over_a_hundred_missed_runs_the_latest_once():
    decision = decide(a_cronjob(last="2026-05-01T00:00"), [], t("09:30:10"))
    assert decision.create_for == t("09:30")
    assert decision.missed >= 100


def test_long_overdue_sparse_schedule_still_finds_the_latest():
    # Yearly schedule, last run 150 years ago is impossible; 3 years of a weekly one is 156.
    decision = decide(a_cronjob("0 0 * * 0", last="2023-05-07T00:00"), [], t("2026-05-04T09:00"))
    assert decision.create_for == t("2026-05-03T00:00")  # the Sunday before
    assert "TooManyMissedTimes" in reasons(decision)


def test_finished_jobs_leave_active_and_set_last_successful_time():
    done = a_job("09:01", state="Complete", finished="09:01:40")
    running = a_job("09:02")
    decision = decide(
        a_cronjob(last="09:02", active=[done, running]), [done, running], t("09:02:30")
    )
    assert [r["name"] for r in decision.status["active"]] == [running["metadata"]["name"]]
    assert decision.status["lastSuccessfulTime"] == "2026-05-04T09:01:40Z"


def test_unlisted_running_job_of_ours_is_adopted_and_others_are_not():
    ours, theirs = a_job("09:01"), a_job("09:02", owned=False)
    decision = decide(a_cronjob(last="09:01"), [ours, theirs], t("09:01:30"))
    assert [r["name"] for r in decision.status["active"]] == [ours["metadata"]["name"]]


def test_history_limits_delete_the_oldest_finished_jobs():
    complete = [a_job(f"09:0{i}", state="Complete") for i in range(5)]
    failed = [a_job(f"08:0{i}", state="Failed") for i in range(3)]
    decision = decide(
        a_cronjob(last="09:04", success_limit=3, failed_limit=1), complete + failed, t("09:04:30")
    )
    assert sorted(decision.delete_history) == sorted(
        [
            complete[0]["metadata"]["name"],
            complete[1]["metadata"]["name"],
            failed[0]["metadata"]["name"],
            failed[1]["metadata"]["name"],
        ]
    )


def test_history_limits_apply_while_suspended():
    complete = [a_job(f"09:0{i}", state="Complete") for i in range(3)]
    decision = decide(
        a_cronjob(last="09:02", suspend=True, success_limit=1), complete, t("09:04:30")
    )
    assert len(decision.delete_history) == 2


# DST in a non-UTC zone: (schedule, zone, last run, now, expected run)
DST = [
    # New York springs forward 2026-03-08 02:00 → 03:00: 02:30 does not exist that day.
    ("30 2 * * *", "America/New_York", "2026-03-07T07:30Z", "2026-03-08T12:00Z", None),
    (
        "30 2 * * *",
        "America/New_York",
        "2026-03-07T07:30Z",
        "2026-03-09T06:30:01Z",
        "2026-03-09T06:30Z",
    ),
    # Falls back 2026-11-01 02:00 → 01:00: 01:30 happens twice and runs at both instants
    # (as Kubernetes' robfig/cron does), each once.
    (
        "30 1 * * *",
        "America/New_York",
        "2026-10-31T05:30Z",
        "2026-11-01T05:30:05Z",
        "2026-11-01T05:30Z",
    ),
    (
        "30 1 * * *",
        "America/New_York",
        "2026-11-01T05:30Z",
        "2026-11-01T06:30:05Z",
        "2026-11-01T06:30Z",
    ),
    ("30 1 * * *", "America/New_York", "2026-11-01T06:30Z", "2026-11-01T12:00:00Z", None),
    # 09:00 in Berlin is 08:00Z in winter and 07:00Z in summer.
    (
        "0 9 * * *",
        "Europe/Berlin",
        "2026-03-27T08:00Z",
        "2026-03-28T08:00:01Z",
        "2026-03-28T08:00Z",
    ),
    (
        "0 9 * * *",
        "Europe/Berlin",
        "2026-03-28T08:00Z",
        "2026-03-29T07:00:01Z",
        "2026-03-29T07:00Z",
    ),
]


@pytest.mark.parametrize("schedule, zone, last, now, expected", DST)
def test_dst_in_a_non_utc_zone(schedule, zone, last, now, expected):
    cj = a_cronjob(schedule, zone=zone, created="2026-01-01T00:00")
    cj["status"]["lastScheduleTime"] = last.replace("Z", ":00Z") if last.count(":") == 1 else last
    decision = decide(cj, [], t(now.replace("Z", "+00:00")))
    assert decision.create_for == (t(expected.replace("Z", "+00:00")) if expected else None)


def test_next_time_skips_the_hour_that_does_not_exist():
    cj = a_cronjob("30 2 * * *", zone="America/New_York", created="2026-01-01T00:00")
    cj["status"]["lastScheduleTime"] = "2026-03-07T07:30:00Z"
    decision = decide(cj, [], t("2026-03-07T08:00+00:00"))
    assert decision.next_run == t("2026-03-09T06:30+00:00")
    assert decision.requeue_after == pytest.approx(
        (t("2026-03-09T06:30+00:00") - t("2026-03-07T08:00+00:00")).total_seconds(), abs=0.01
    )
    assert timedelta(seconds=decision.requeue_after) > timedelta(days=1)
