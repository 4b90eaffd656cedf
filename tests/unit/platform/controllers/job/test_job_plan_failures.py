"""Failures: backoffLimit, the backoff before replacements, restarts under OnFailure, and
podFailurePolicy actions."""

import pytest

from berth.platform.controllers.job import JobTracking, keys
from tests.unit.platform.controllers.job.job_builders import (
    Cluster,
    a_job,
    a_pod,
    at,
    condition_of,
    deleted,
    plan_at,
    reasons,
    released,
)


@pytest.mark.parametrize(
    "limit, failures, fails",
    [(0, 1, True), (1, 1, False), (1, 2, True), (6, 6, False), (6, 7, True)],
)
def test_backoff_limit_counts_failed_pods(limit, failures, fails):
    job = a_job(completions=1, backoffLimit=limit).started().status(failed=failures - 1).build()
    result = plan_at(job, [a_pod().failed(at_s=0).build()], seconds=3600)
    target = condition_of(result.status, keys.FAILURE_TARGET)
    assert (target is not None) == fails
    if fails:
        assert (target["reason"], target["message"]) == (
            "BackoffLimitExceeded",
            "Job has reached the specified backoff limit",
        )
        assert result.create == []
    else:
        assert len(result.create) == 1


def test_failure_stops_the_running_pods_and_fails_once_they_are_gone():
    cluster = Cluster(a_job(completions=3, parallelism=2, backoffLimit=0).build())
    cluster.sync()
    doomed, survivor = cluster.active()
    cluster.run(survivor)
    cluster.finish(doomed, 1)
    first = cluster.sync()
    assert condition_of(first.status, keys.FAILURE_TARGET)["reason"] == "BackoffLimitExceeded"
    assert condition_of(first.status, keys.FAILED_CONDITION) is None
    assert (
        deleted(first) == [survivor] and not first.delete[0].release_finalizer
    )  # it will be counted
    assert first.status["terminating"] == 1 and first.status["ready"] == 0
    cluster.settle()
    assert cluster.condition(keys.FAILED_CONDITION) is None  # the stopped pod is still terminating
    cluster.finish(survivor, 137)
    cluster.settle()
    failed = cluster.condition(keys.FAILED_CONDITION)
    assert (failed["reason"], failed["message"]) == (
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
    )
    assert cluster.job["status"]["failed"] == 2  # the stopped pod counts as failed too
    assert ("Warning", "BackoffLimitExceeded") in [(e.type, e.reason) for e in cluster.events]
    assert "completionTime" not in cluster.job["status"]


@pytest.mark.parametrize(
    "failures, now_s, creates, wait_s",
    [
        (1, 3, False, 7),
        (1, 10, True, None),
        (2, 15, False, 5),
        (3, 39, False, 1),
        (3, 39.5, False, 1),  # never requeued sooner than a second
        (8, 599, False, 1),
        (8, 600, True, None),
    ],
)
def test_replacements_wait_for_the_exponential_backoff(failures, now_s, creates, wait_s):
    job = a_job(completions=1, backoffLimit=10).started().status(failed=failures).build()
    result = plan_at(
        job,
        [a_pod().failed(at_s=0).released().build()],
        seconds=now_s,
        state=JobTracking(failures, at(0)),
    )
    assert bool(result.create) == creates
    assert result.requeue_after == (None if creates else pytest.approx(wait_s))


def test_a_new_failure_is_remembered_for_the_backoff():
    job = a_job(completions=1, backoffLimit=10).started().status(failed=1).build()
    result = plan_at(job, [a_pod().failed(at_s=4).build()], seconds=5, state=JobTracking(1, at(0)))
    assert result.tracking == JobTracking(2, at(4))
    assert result.create == []  # 20s from the newest failure
    assert result.requeue_after == 0  # its count moves into status.failed right away


def test_a_restarted_controller_forgets_earlier_failures_like_kubernetes():
    job = a_job(completions=1, backoffLimit=10).started().status(failed=3).build()
    result = plan_at(job, [a_pod().failed(at_s=0).build()], seconds=10)
    assert result.create  # one failure remembered: 10s, already passed


@pytest.mark.parametrize(
    "limit, restarts, fails", [(0, 0, False), (0, 1, True), (3, 2, False), (3, 3, True)]
)
def test_on_failure_restarts_count_toward_the_limit(limit, restarts, fails):
    job = a_job(completions=1, backoffLimit=limit).on_failure().started().build()
    pods = [a_pod().running().restarts(restarts).build()]
    target = condition_of(plan_at(job, pods).status, keys.FAILURE_TARGET)
    assert (target is not None and target["reason"] == "BackoffLimitExceeded") == fails


def exit_rule(action, *codes, operator="In"):
    return {"action": action, "onExitCodes": {"operator": operator, "values": list(codes)}}


def test_fail_job_rule_fails_the_job_at_once():
    job = (
        a_job(completions=3, parallelism=2, backoffLimit=6)
        .failure_rules(exit_rule("FailJob", 42))
        .started()
        .build()
    )
    pods = [a_pod(name="x-abc").failed(exit=42).build(), a_pod(name="other").running().build()]
    result = plan_at(job, pods)
    target = condition_of(result.status, keys.FAILURE_TARGET)
    assert target["reason"] == "PodFailurePolicy"
    assert target["message"] == (
        "Container main for pod default/x-abc failed with exit code 42 "
        "matching FailJob rule at index 0"
    )
    assert deleted(result) == ["other"]


def test_ignored_failures_are_replaced_but_not_counted():
    job = (
        a_job(completions=1, backoffLimit=0)
        .failure_rules(
            {
                "action": "Ignore",
                "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}],
            }
        )
        .started()
        .build()
    )
    evicted = a_pod(name="evicted").failed(exit=137).condition("DisruptionTarget").build()
    result = plan_at(job, [evicted], seconds=60)
    assert condition_of(result.status, keys.FAILURE_TARGET) is None
    assert len(result.create) == 1
    assert released(result) == ["evicted"]
    assert "failed" not in result.status and not result.status["uncountedTerminatedPods"]


def test_count_rule_and_unmatched_failures_count():
    job = (
        a_job(completions=1, backoffLimit=5).failure_rules(exit_rule("Ignore", 3)).started().build()
    )
    result = plan_at(job, [a_pod().failed(exit=1).build()], seconds=60)
    assert len(result.status["uncountedTerminatedPods"]["failed"]) == 1


def test_disruption_fail_job_message_names_the_condition():
    job = (
        a_job(completions=1)
        .failure_rules(
            {
                "action": "FailJob",
                "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}],
            }
        )
        .started()
        .build()
    )
    pod = a_pod(name="pi-xyz").failed(exit=137).condition("DisruptionTarget").build()
    target = condition_of(plan_at(job, [pod]).status, keys.FAILURE_TARGET)
    assert (
        target["message"]
        == "Pod default/pi-xyz has condition DisruptionTarget matching FailJob rule at index 0"
    )


def test_failed_condition_copies_the_failure_target():
    job = (
        a_job(completions=1)
        .started()
        .condition(keys.FAILURE_TARGET, reason="PodFailurePolicy", message="the message", at_s=0)
        .build()
    )
    result = plan_at(job, [], seconds=9)
    failed = condition_of(result.status, keys.FAILED_CONDITION)
    assert (failed["reason"], failed["message"], failed["lastTransitionTime"]) == (
        "PodFailurePolicy",
        "the message",
        "2026-11-25T12:00:09Z",
    )
    assert reasons(result) == ["PodFailurePolicy"] and result.events[0].type == "Warning"
    assert result.create == []


def test_per_index_replacement_carries_the_failure_count():
    job = a_job(completions=2, parallelism=2, backoffLimitPerIndex=2).indexed().started().build()
    failed = a_pod(index=0, name="zero-a").failures(0).failed(at_s=0).build()
    result = plan_at(job, [failed, a_pod(index=1).failures(0).running().build()], seconds=60)
    assert [p["metadata"]["annotations"][keys.INDEX_FAILURE_COUNT] for p in result.create] == ["1"]
    assert released(result) == []  # held until its replacement exists
    assert result.status["failedIndexes"] == ""
    assert "failed" not in result.status and not result.status["uncountedTerminatedPods"]


def test_per_index_failed_pod_is_released_once_replaced():
    job = a_job(completions=2, parallelism=2, backoffLimitPerIndex=2).indexed().started().build()
    pods = [
        a_pod(index=0, name="zero-a").failures(0).failed().build(),
        a_pod(index=0, name="zero-b").failures(1).running().build(),
    ]
    result = plan_at(job, pods, seconds=60)
    assert released(result) == ["zero-a"]
    assert len(result.status["uncountedTerminatedPods"]["failed"]) == 1


def test_per_index_backoff_waits_per_index():
    job = a_job(completions=2, parallelism=2, backoffLimitPerIndex=5).indexed().started().build()
    pods = [
        a_pod(index=0).failures(2).failed(at_s=0).build(),
        a_pod(index=1).failures(0).running().build(),
    ]
    result = plan_at(job, pods, seconds=30)  # third failure of the index: 40s
    assert result.create == [] and result.requeue_after == pytest.approx(10)


def test_an_index_that_spent_its_budget_fails_and_the_job_fails_when_all_indexes_ended():
    job = (
        a_job(completions=3, parallelism=3, backoffLimitPerIndex=1)
        .indexed()
        .started()
        .status(completedIndexes="0", succeeded=1)
        .build()
    )
    pods = [
        a_pod(index=1).failures(1).failed().build(),
        a_pod(index=2).failures(0).running().build(),
    ]
    result = plan_at(job, pods)
    assert result.status["failedIndexes"] == "1"
    assert condition_of(result.status, keys.FAILURE_TARGET) is None  # index 2 still runs
    pods[1] = a_pod(index=2).failures(0).succeeded().build()
    target = condition_of(plan_at(job, pods).status, keys.FAILURE_TARGET)
    assert (target["reason"], target["message"]) == ("FailedIndexes", "Job has failed indexes")


def test_max_failed_indexes_exceeded():
    job = (
        a_job(completions=5, parallelism=5, backoffLimitPerIndex=0, maxFailedIndexes=1)
        .indexed()
        .started()
        .build()
    )
    pods = [a_pod(index=i).failures(0).failed().build() for i in (0, 1)] + [
        a_pod(index=2).running().build()
    ]
    result = plan_at(job, pods)
    target = condition_of(result.status, keys.FAILURE_TARGET)
    assert (target["reason"], target["message"]) == (
        "MaxFailedIndexesExceeded",
        "Job has exceeded the specified maximal number of failed indexes",
    )
    assert result.status["failedIndexes"] == "0,1"


def test_fail_index_rule_ends_the_index_at_once():
    job = (
        a_job(completions=3, parallelism=3, backoffLimitPerIndex=5)
        .indexed()
        .failure_rules(exit_rule("FailIndex", 42))
        .started()
        .build()
    )
    pods = [
        a_pod(index=0).failures(0).failed(exit=42).build(),
        a_pod(index=1).running().build(),
        a_pod(index=2).running().build(),
    ]
    result = plan_at(job, pods)
    assert result.status["failedIndexes"] == "0"
    assert result.create == []  # a failed index is never retried
