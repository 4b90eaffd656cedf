from datetime import UTC, datetime

import pytest

from berth.platform.metrics.states import (
    cron_next_fire,
    has_started,
    job_finish,
    job_state,
    pod_failure_reason,
)
from tests.unit.platform.metrics.builders import a_job, a_pod


@pytest.mark.parametrize(
    "job, running, state",
    [
        (a_job("j"), False, "pending"),
        (a_job("j", active=2), False, "pending"),  # its pods wait for a node
        (a_job("j", active=2), True, "active"),
        (a_job("j", suspend=True), False, "suspended"),
        (a_job("j", finished="Complete", reason="CompletionsReached"), False, "complete"),
        (a_job("j", active=1, finished="Failed", reason="BackoffLimitExceeded"), True, "failed"),
    ],
)
def test_job_state(job, running, state):
    assert job_state(job, running) == state


def test_job_finish_reads_reason_and_duration():
    job = a_job(
        "j",
        finished="Failed",
        reason="DeadlineExceeded",
        start="2026-01-01T00:00:00Z",
        end="2026-01-01T00:01:30Z",
    )
    assert job_finish(job) == ("failed", "DeadlineExceeded", 90.0)
    assert job_finish(a_job("j", active=1)) is None
    assert job_finish(a_job("j", finished="Complete", reason="CompletionsReached")) == (
        "complete",
        "CompletionsReached",
        None,
    )


@pytest.mark.parametrize(
    "pod, reason",
    [
        (a_pod("p", phase="Failed", reason="DeadlineExceeded"), "DeadlineExceeded"),
        (
            a_pod(
                "p",
                phase="Failed",
                containers=[
                    {
                        "name": "main",
                        "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}},
                    }
                ],
            ),
            "OOMKilled",
        ),
        (
            a_pod(
                "p",
                phase="Failed",
                containers=[{"name": "main", "state": {"terminated": {"exitCode": 1}}}],
            ),
            "Error",
        ),
        (a_pod("p", phase="Failed"), "Unknown"),
    ],
)
def test_pod_failure_reason(pod, reason):
    assert pod_failure_reason(pod) == reason


def test_has_started():
    assert has_started(a_pod("p", phase="Running"))
    assert not has_started(a_pod("p"))
    assert has_started(
        a_pod(
            "p",
            phase="Failed",
            containers=[
                {
                    "name": "main",
                    "state": {"terminated": {"exitCode": 1, "startedAt": "2026-01-01T00:00:00Z"}},
                }
            ],
        )
    )
    assert not has_started(
        a_pod(
            "p",
            phase="Failed",
            containers=[
                {"name": "main", "state": {"terminated": {"exitCode": 128, "reason": "StartError"}}}
            ],
        )
    )


NOW = datetime(2026, 3, 4, 10, 17, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "schedule, tz, expected",
    [
        ("*/5 * * * *", None, datetime(2026, 3, 4, 10, 20, tzinfo=UTC)),
        ("@hourly", None, datetime(2026, 3, 4, 11, 0, tzinfo=UTC)),
        ("0 12 * * *", "Europe/Berlin", datetime(2026, 3, 4, 11, 0, tzinfo=UTC)),
        ("CRON_TZ=Asia/Tokyo 0 20 * * *", None, datetime(2026, 3, 4, 11, 0, tzinfo=UTC)),
        ("@weekly", None, datetime(2026, 3, 8, 0, 0, tzinfo=UTC)),  # Sunday, not Monday
        ("0 0 13 * 5", None, datetime(2026, 3, 6, 0, 0, tzinfo=UTC)),  # the 13th OR Friday
        ("not a schedule", None, None),
        ("0 0 * * *", "Mars/Olympus", None),
    ],
)
def test_cron_next_fire(schedule, tz, expected):
    fire = cron_next_fire(schedule, tz, NOW)
    assert fire == expected
