"""Job patterns: non-parallel, fixed completions (NonIndexed and Indexed), work queue; and
parallelism changes on a running Job."""

import pytest

from berth.platform.controllers.job import keys
from tests.unit.platform.controllers.job.job_builders import (
    Cluster,
    a_job,
    a_pod,
    condition_of,
    created_indexes,
    deleted,
    plan_at,
    ts,
)


def test_non_parallel_job_starts_one_pod():
    result = plan_at(a_job("pi").build(), [], seconds=5)
    assert len(result.create) == 1
    name = result.create[0]["metadata"]["name"]
    assert (
        result.events[0].reason == "SuccessfulCreate"
        and result.events[0].message == f"Created pod: {name}"
    )
    assert result.write_status
    assert result.status == {
        "startTime": ts(5),
        "active": 1,
        "ready": 0,
        "terminating": 0,
        "uncountedTerminatedPods": {},
    }


@pytest.mark.parametrize(
    "completions, parallelism, succeeded, running, creates",
    [
        (4, 2, 0, 0, 2),
        (4, 2, 0, 1, 1),
        (4, 2, 0, 2, 0),
        (4, 2, 3, 0, 1),  # capped by the remaining completions
        (4, 8, 1, 0, 3),
        (4, 2, 4, 0, 0),
        (1, 1, 0, 0, 1),
    ],
)
def test_fixed_completions_keep_min_of_parallelism_and_remaining(
    completions, parallelism, succeeded, running, creates
):
    job = (
        a_job(completions=completions, parallelism=parallelism)
        .started()
        .status(succeeded=succeeded)
        .build()
    )
    pods = [a_pod().running().build() for _ in range(running)]
    assert len(plan_at(job, pods).create) == creates


def test_work_queue_starts_parallelism_pods_until_one_succeeds():
    job = a_job(parallelism=3).build()
    assert len(plan_at(job, []).create) == 3
    pods = [a_pod().succeeded().build(), a_pod().running().build()]
    result = plan_at(a_job(parallelism=3).started().build(), pods)
    assert result.create == [] and result.delete == []
    assert condition_of(result.status, keys.SUCCESS_CRITERIA_MET) is None


def test_work_queue_completes_when_one_succeeded_and_all_ended():
    cluster = Cluster(a_job(parallelism=2).build())
    cluster.sync()
    first, second = cluster.active()
    cluster.finish(first, 0)
    cluster.settle()
    assert cluster.condition(keys.COMPLETE) is None  # the other pod still works
    cluster.finish(second, 1)  # a later failure is ignored once one pod succeeded
    cluster.settle()
    assert cluster.condition(keys.COMPLETE)["status"] == "True"
    assert cluster.job["status"]["succeeded"] == 1 and cluster.job["status"]["failed"] == 1


def test_completion_goes_through_success_criteria_met():
    cluster = Cluster(a_job(completions=2, parallelism=2).build())
    cluster.sync()
    for name in cluster.active():
        cluster.finish(name, 0)
    cluster.advance(30)
    first = cluster.sync()
    criteria = condition_of(first.status, keys.SUCCESS_CRITERIA_MET)
    assert (
        criteria["reason"] == "CompletionsReached"
        and criteria["message"] == "Reached expected number of succeeded pods"
    )
    assert condition_of(first.status, keys.COMPLETE) is None  # its pods still hold their finalizers
    assert first.status["uncountedTerminatedPods"]["succeeded"] and first.requeue_after == 0
    second = cluster.sync()
    complete = condition_of(second.status, keys.COMPLETE)
    assert (complete["reason"], complete["message"]) == (
        "CompletionsReached",
        "Reached expected number of succeeded pods",
    )
    assert second.status["completionTime"] == ts(30) and second.status["succeeded"] == 2
    assert second.events[-1].reason == "Completed" and second.events[-1].message == "Job completed"


def test_indexed_job_creates_the_lowest_pending_indexes():
    job = (
        a_job(completions=6, parallelism=3)
        .indexed()
        .started()
        .status(completedIndexes="0,2")
        .build()
    )
    pods = [a_pod(index=1).running().build()]
    assert sorted(created_indexes(plan_at(job, pods))) == [3, 4]


def test_indexed_success_is_counted_once_per_index():
    job = (
        a_job(completions=4, parallelism=2)
        .indexed()
        .started()
        .status(completedIndexes="1", succeeded=1)
        .build()
    )
    pods = [
        a_pod(index=0).succeeded().build(),
        a_pod(index=0).succeeded().build(),
        a_pod(index=1).succeeded().build(),
        a_pod(index=3).succeeded().build(),
        a_pod(index=9).succeeded().build(),
    ]  # out of range: not an index of this Job
    result = plan_at(job, pods)
    assert result.status["completedIndexes"] == "0,1,3"
    assert result.status["succeeded"] == 3
    assert (
        "uncountedTerminatedPods" in result.status and not result.status["uncountedTerminatedPods"]
    )
    assert len(result.remove_finalizers) == 5
    assert created_indexes(result) == [2]


def test_indexed_completed_indexes_are_compressed():
    job = a_job(completions=8, parallelism=8).indexed().started().build()
    pods = [a_pod(index=i).succeeded().build() for i in (0, 1, 2, 3, 5)]
    assert plan_at(job, pods).status["completedIndexes"] == "0-3,5"


def test_scale_up_creates_on_a_running_job():
    job = a_job(completions=10, parallelism=4).started().build()
    pods = [a_pod().running().build() for _ in range(2)]
    assert len(plan_at(job, pods).create) == 2


def test_scale_down_deletes_the_least_progressed_first():
    job = a_job(completions=10, parallelism=2).started().build()
    unscheduled = a_pod(name="unscheduled", created=1).build()
    pending = a_pod(name="pending", created=1).on_node().build()
    not_ready = a_pod(name="not-ready", created=1).running(ready=False).build()
    ready_new = a_pod(name="ready-new", created=1).running(since=50).build()
    ready_old = a_pod(name="ready-old", created=1).running(since=10).build()
    pods = [ready_old, ready_new, not_ready, pending, unscheduled]
    result = plan_at(job, pods)
    assert deleted(result) == ["unscheduled", "pending", "not-ready"]
    assert all(d.release_finalizer for d in result.delete)  # dropped pods are not counted
    assert [e.message for e in result.events] == [
        "Deleted pod: unscheduled",
        "Deleted pod: pending",
        "Deleted pod: not-ready",
    ]
    assert result.status["active"] == 2 and result.status["terminating"] == 3
    assert result.create == []


@pytest.mark.parametrize(
    "older, newer, first",
    [
        (dict(created=1), dict(created=9), "newer"),  # the newest goes first
        (dict(created=1, restarts=3), dict(created=9), "older"),  # more restarts go first
    ],
)
def test_deletion_tie_breaks(older, newer, first):
    def pod(name, created, restarts=0):
        return a_pod(name=name, created=created).running(since=0).restarts(restarts).build()

    job = a_job(completions=10, parallelism=1).started().build()
    result = plan_at(job, [pod("older", **older), pod("newer", **newer)])
    assert deleted(result) == [first]


def test_parallelism_zero_pauses_the_job():
    job = a_job(completions=4, parallelism=0).started().build()
    pods = [a_pod().running().build(), a_pod().build()]
    result = plan_at(job, pods)
    assert len(result.delete) == 2 and result.create == []
    assert "active" not in result.status
    assert plan_at(job, []).create == []


def test_indexed_duplicate_keeps_the_most_progressed_pod():
    job = a_job(completions=3, parallelism=3).indexed().started().build()
    pods = [
        a_pod(index=0, name="dup-running").running().build(),
        a_pod(index=0, name="dup-pending").build(),
        a_pod(index=1).running().build(),
        a_pod(index=7, name="out-of-range").running().build(),
    ]
    result = plan_at(job, pods)
    assert sorted(deleted(result)) == ["dup-pending", "out-of-range"]
    assert result.create == []  # creation waits for the next sync


def test_more_successes_than_completions_warn_on_completion():
    job = (
        a_job(completions=2, parallelism=2)
        .started()
        .status(succeeded=3)
        .condition(keys.SUCCESS_CRITERIA_MET, reason="CompletionsReached", message="m")
        .build()
    )
    result = plan_at(job, [])
    assert [(e.type, e.reason) for e in result.events] == [
        ("Warning", "TooManySucceededPods"),
        ("Normal", "Completed"),
    ]
