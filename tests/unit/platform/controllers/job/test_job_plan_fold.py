"""plan_folded: the sync after a finished pod's record is planned at once, so the status that
counts the pod is written with its finalizer removal, and the record is never stored."""

import random

from berth.platform.controllers.job import keys
from berth.platform.controllers.job.fold import plan_folded
from tests.unit.platform.controllers.job.job_builders import (
    a_job,
    a_pod,
    at,
    condition_of,
    plan_at,
    reasons,
    released,
)


def folded_at(job, pods, seconds: float = 0):
    return plan_folded(job, pods, at(seconds), None, rng=random.Random(0))


def test_a_last_pod_that_succeeded_is_counted_and_completes_the_job_in_one_write():
    job = a_job(completions=1).started().status(active=1).build()
    done = a_pod(name="done").succeeded().build()
    result = folded_at(job, [done], seconds=60)
    assert result.counts_released and result.write_status
    assert released(result) == ["done"]
    assert result.status["succeeded"] == 1
    assert not result.status.get("uncountedTerminatedPods")
    assert condition_of(result.status, keys.SUCCESS_CRITERIA_MET)["status"] == "True"
    assert condition_of(result.status, keys.COMPLETE)["status"] == "True"
    assert "completionTime" in result.status
    assert reasons(result) == ["Completed"]
    assert result.requeue_after is None
    # Unfolded, the same sync only records the pod and asks for another.
    two_phase = plan_at(job, [done], seconds=60)
    assert two_phase.status["uncountedTerminatedPods"] == {"succeeded": [done["metadata"]["uid"]]}
    assert two_phase.requeue_after == 0 and not two_phase.counts_released


def test_a_failure_within_the_backoff_limit_is_not_folded_when_it_is_replaced():
    job = a_job(completions=1, backoffLimit=3).started().status(active=1).build()
    broken = a_pod(name="broken").failed().build()
    result = folded_at(job, [broken], seconds=60)
    assert result.create  # the replacement: a Plan that creates pods is applied as planned
    assert not result.counts_released
    assert result.status["uncountedTerminatedPods"] == {"failed": [broken["metadata"]["uid"]]}


def test_a_pod_being_deleted_is_not_folded():
    job = a_job(completions=2, parallelism=2).started().status(active=2).build()
    gone = a_pod(name="gone").succeeded().deleting().build()
    running = a_pod(name="running").running().build()
    result = folded_at(job, [gone, running], seconds=60)
    assert released(result) == ["gone"] and not result.counts_released
    assert result.status["uncountedTerminatedPods"] == {"succeeded": [gone["metadata"]["uid"]]}


def test_a_success_with_others_still_running_is_counted_at_once():
    job = a_job(completions=2, parallelism=2).started().status(active=2).build()
    done = a_pod(name="done").succeeded().build()
    running = a_pod(name="running").running().build()
    result = folded_at(job, [done, running], seconds=60)
    assert result.counts_released and released(result) == ["done"]
    assert result.status["succeeded"] == 1 and result.status["active"] == 1
    assert not result.status.get("uncountedTerminatedPods")
    assert condition_of(result.status, keys.COMPLETE) is None
