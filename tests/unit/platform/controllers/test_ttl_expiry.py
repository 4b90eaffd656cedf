"""When a finished Job is due for deletion under ``ttlSecondsAfterFinished``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from berth.platform.controllers.ttl import expires_at, finished_at, time_left

T0 = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def ts(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def cond(kind: str, status: str = "True", at: float = 0) -> dict:
    return {
        "type": kind,
        "status": status,
        "lastTransitionTime": ts(at),
        "reason": "",
        "message": "",
    }


def job(ttl=None, conditions=(), completion=None, deleting=False) -> dict:
    out = {
        "metadata": {"name": "j", "namespace": "default", "uid": "u"},
        "spec": {},
        "status": {"conditions": list(conditions)},
    }
    if ttl is not None:
        out["spec"]["ttlSecondsAfterFinished"] = ttl
    if completion is not None:
        out["status"]["completionTime"] = ts(completion)
    if deleting:
        out["metadata"]["deletionTimestamp"] = ts(0)
    return out


@pytest.mark.parametrize(
    "case, obj, due",
    [
        ("no ttl", job(None, [cond("Complete", at=5)], completion=5), None),
        ("running", job(10, []), None),
        ("suspended only", job(10, [cond("Suspended")]), None),
        (
            "complete: from completionTime",
            job(10, [cond("SuccessCriteriaMet", at=3), cond("Complete", at=4)], completion=5),
            15,
        ),
        ("complete without completionTime: the condition", job(10, [cond("Complete", at=4)]), 14),
        (
            "failed: the Failed condition",
            job(30, [cond("FailureTarget", at=1), cond("Failed", at=2)]),
            32,
        ),
        ("failed False is not finished", job(10, [cond("Failed", "False", at=2)]), None),
        ("ttl zero: due when finished", job(0, [cond("Failed", at=7)]), 7),
        (
            "being deleted already",
            job(10, [cond("Complete", at=4)], completion=4, deleting=True),
            None,
        ),
    ],
)
def test_expires_at(case, obj, due):
    expected = None if due is None else T0 + timedelta(seconds=due)
    assert expires_at(obj) == expected, case


@pytest.mark.parametrize(
    "now, left",
    [(0, 15), (14, 1), (15, 0), (20, -5)],
)
def test_time_left_counts_down_from_completion(now, left):
    obj = job(10, [cond("Complete", at=5)], completion=5)
    assert time_left(obj, T0 + timedelta(seconds=now)) == timedelta(seconds=left)


def test_finished_at_and_time_left_are_none_while_running():
    obj = job(10, [])
    assert finished_at(obj) is None
    assert time_left(obj, T0) is None
