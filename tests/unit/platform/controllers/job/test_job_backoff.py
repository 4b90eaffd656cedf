"""Failure backoff before replacing pods: 10s doubling up to 10 minutes, from finish times."""

from datetime import timedelta

import pytest

from berth.platform.controllers.job import backoff, pod_state
from berth.platform.controllers.job.backoff import JobTracking
from tests.unit.platform.controllers.job.job_builders import a_pod, at


@pytest.mark.parametrize(
    "failures, seconds",
    [(0, 0), (1, 10), (2, 20), (3, 40), (4, 80), (5, 160), (6, 320), (7, 600), (8, 600), (50, 600)],
)
def test_delay_doubles_up_to_ten_minutes(failures, seconds):
    assert backoff.delay(failures) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    "failures, last_failure_s, now_s, left_s",
    [
        (1, 0, 0, 10),
        (1, 0, 4, 6),
        (1, 0, 10, 0),
        (1, 0, 99, 0),
        (3, 100, 110, 30),
        (0, 0, 0, 0),
    ],
)
def test_remaining_counts_from_the_last_failure(failures, last_failure_s, now_s, left_s):
    assert backoff.remaining(failures, at(last_failure_s), at(now_s)) == timedelta(seconds=left_s)


def test_remaining_without_a_failure_time_is_zero():
    assert backoff.remaining(3, None, at(0)) == timedelta(0)


def test_failures_add_up_and_remember_the_latest_finish():
    first = backoff.next_record(
        JobTracking(), [], [a_pod().failed(at_s=5).build(), a_pod().failed(at_s=9).build()]
    )
    assert first == JobTracking(2, at(9))
    second = backoff.next_record(first, [], [a_pod().failed(at_s=30).build()])
    assert second == JobTracking(3, at(30))


def test_a_success_resets_and_only_later_failures_count():
    record = JobTracking(4, at(1))
    pods_ok = [a_pod().succeeded(at_s=20).build()]
    pods_bad = [
        a_pod().failed(at_s=10).build(),
        a_pod().failed(at_s=25).build(),
        a_pod().failed(at_s=27).build(),
    ]
    assert backoff.next_record(record, pods_ok, pods_bad) == JobTracking(2, at(27))
    assert backoff.next_record(record, pods_ok, []) == JobTracking(0, None)
    assert backoff.next_record(record, pods_ok, pods_bad[:1]) == JobTracking(0, None)


def test_nothing_new_keeps_the_record():
    record = JobTracking(2, at(3))
    assert backoff.next_record(record, [], []) is record


@pytest.mark.parametrize(
    "pod, expected_s",
    [
        (a_pod(created=1).failed(at_s=40).build(), 40),  # the container's finish
        (a_pod(created=1).condition("Ready", "False", at_s=33).build(), 33),  # Ready turned False
        (a_pod(created=1).deleting(at_s=50).build(), 50),  # deletion moment
        (a_pod(created=7).build(), 7),  # nothing better: creation
    ],
)
def test_finish_time_lookup_order(pod, expected_s):
    assert pod_state.finished_time(pod) == at(expected_s)
