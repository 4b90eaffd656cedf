"""Suspend and resume, activeDeadlineSeconds, successPolicy, pod replacement policy, pods
deleted while running, Jobs being deleted, and finished Jobs that never change again."""

import pytest

from berth.platform.controllers.job import keys
from tests.unit.platform.controllers.job.job_builders import (
    Cluster,
    a_job,
    a_pod,
    condition_of,
    deleted,
    plan_at,
    reasons,
    released,
    ts,
)


def test_a_job_created_suspended_starts_nothing():
    result = plan_at(a_job(completions=2).suspended().build(), [], seconds=4)
    assert result.create == [] and "startTime" not in result.status
    suspended = condition_of(result.status, keys.SUSPENDED)
    assert (suspended["status"], suspended["reason"], suspended["message"]) == (
        "True",
        "JobSuspended",
        "Job suspended",
    )
    assert reasons(result) == ["Suspended"] and result.requeue_after is None


def test_suspending_deletes_active_pods_without_counting_them():
    job = (
        a_job(completions=4, parallelism=2, activeDeadlineSeconds=100)
        .suspended()
        .started(0)
        .build()
    )
    pods = [
        a_pod(name="a").running().build(),
        a_pod(name="b").build(),
        a_pod(name="done").succeeded().build(),
    ]
    result = plan_at(job, pods, seconds=20)
    assert sorted(deleted(result)) == ["a", "b"] and all(d.release_finalizer for d in result.delete)
    assert "startTime" not in result.status  # cleared while suspended (Kubernetes 1.35+)
    assert "active" not in result.status and result.status["terminating"] == 2
    assert result.status["uncountedTerminatedPods"] == {"succeeded": [pods[2]["metadata"]["uid"]]}
    assert reasons(result) == ["SuccessfulDelete", "SuccessfulDelete", "Suspended"]


def test_resuming_restarts_the_clock():
    cluster = Cluster(a_job(completions=1, activeDeadlineSeconds=30).suspended().build())
    cluster.sync()
    cluster.advance(100)
    cluster.job["spec"]["suspend"] = False
    result = cluster.sync()
    resumed = condition_of(result.status, keys.SUSPENDED)
    assert (resumed["status"], resumed["reason"], resumed["message"]) == (
        "False",
        "JobResumed",
        "Job resumed",
    )
    assert resumed["lastTransitionTime"] == ts(100)
    assert result.status["startTime"] == ts(100)
    assert reasons(result) == ["SuccessfulCreate", "Resumed"]
    assert result.requeue_after == 30  # the deadline counts from the resume
    assert condition_of(result.status, keys.FAILURE_TARGET) is None


def test_a_never_suspended_job_gets_no_suspended_condition():
    assert condition_of(plan_at(a_job().build(), []).status, keys.SUSPENDED) is None


def test_deadline_is_requeued_before_it_passes():
    job = a_job(completions=1, activeDeadlineSeconds=60).started(0).build()
    result = plan_at(job, [a_pod().running().build()], seconds=45)
    assert result.requeue_after == 15 and condition_of(result.status, keys.FAILURE_TARGET) is None


def test_deadline_exceeded_stops_the_pods_then_fails():
    cluster = Cluster(a_job(completions=2, parallelism=2, activeDeadlineSeconds=60).build())
    cluster.sync()
    cluster.advance(60)
    first = cluster.sync()
    target = condition_of(first.status, keys.FAILURE_TARGET)
    assert (target["reason"], target["message"]) == (
        "DeadlineExceeded",
        "Job was active longer than specified deadline",
    )
    assert len(first.delete) == 2 and first.create == []
    for name in cluster.names():
        cluster.finish(name, 143)
    cluster.settle()
    failed = cluster.condition(keys.FAILED_CONDITION)
    assert (failed["reason"], failed["message"]) == (
        "DeadlineExceeded",
        "Job was active longer than specified deadline",
    )
    assert cluster.job["status"]["failed"] == 2
    assert ("Warning", "DeadlineExceeded", "Job was active longer than specified deadline") in [
        (e.type, e.reason, e.message) for e in cluster.events
    ]


def test_success_policy_meets_criteria_and_stops_the_rest():
    job = (
        a_job(completions=4, parallelism=4)
        .indexed()
        .success_rules({"succeededIndexes": "0,1"})
        .started()
        .build()
    )
    pods = [
        a_pod(index=0).succeeded().build(),
        a_pod(index=1).succeeded().build(),
        a_pod(index=2, name="two").running().build(),
        a_pod(index=3, name="three").build(),
    ]
    result = plan_at(job, pods)
    criteria = condition_of(result.status, keys.SUCCESS_CRITERIA_MET)
    assert (criteria["reason"], criteria["message"]) == (
        "SuccessPolicy",
        "Matched rules at index 0",
    )
    assert sorted(deleted(result)) == ["three", "two"]
    assert condition_of(result.status, keys.COMPLETE) is None


def test_success_policy_completes_once_the_rest_stopped():
    cluster = Cluster(
        a_job(completions=3, parallelism=3).indexed().success_rules({"succeededCount": 1}).build()
    )
    cluster.sync()
    names = cluster.active()
    cluster.finish(names[0], 0)
    cluster.sync()
    for name in names[1:]:
        cluster.finish(name, 143)
    cluster.settle()
    complete = cluster.condition(keys.COMPLETE)
    assert (complete["reason"], complete["message"]) == (
        "SuccessPolicy",
        "Matched rules at index 0",
    )
    assert (
        cluster.job["status"]["completedIndexes"] == "0" and cluster.job["status"]["succeeded"] == 1
    )


@pytest.mark.parametrize("policy, replaced", [("TerminatingOrFailed", True), ("Failed", False)])
def test_replacement_policy(policy, replaced):
    job = a_job(completions=2, parallelism=2, podReplacementPolicy=policy).started().build()
    pods = [a_pod().running().build(), a_pod(name="going").running().deleting(at_s=5).build()]
    result = plan_at(job, pods, seconds=15)  # past the 10s backoff its failure starts
    assert bool(result.create) == replaced
    assert result.status["terminating"] == 1


def test_failed_replacement_policy_still_replaces_a_failed_pod():
    job = a_job(completions=1, podReplacementPolicy="Failed").started().build()
    pod = a_pod(name="gone").running().deleting(at_s=0).build()
    pod["status"]["phase"] = keys.FAILED
    assert plan_at(job, [pod], seconds=60).create  # failed now: no longer waited for


def test_a_pod_deleted_while_running_counts_as_failed():
    job = a_job(completions=1).started().build()
    pod = a_pod(name="victim").running().deleting(at_s=1).build()
    result = plan_at(job, [pod], seconds=2)
    assert result.status["uncountedTerminatedPods"] == {"failed": [pod["metadata"]["uid"]]}
    assert released(result) == ["victim"]


def test_with_failed_policy_a_deleted_pod_counts_only_once_failed():
    job = a_job(completions=1, podReplacementPolicy="Failed").started().build()
    pod = a_pod(name="victim").running().deleting(at_s=1).build()
    result = plan_at(job, [pod], seconds=2)
    assert not result.status["uncountedTerminatedPods"] and released(result) == []


def test_a_finished_job_never_changes_but_releases_leftover_finalizers():
    job = a_job(completions=1, activeDeadlineSeconds=1).started().condition(keys.COMPLETE).build()
    pods = [a_pod(name="left").failed().build(), a_pod(name="clean").succeeded().released().build()]
    result = plan_at(job, pods, seconds=999)
    assert result.status == job["status"] and not result.write_status
    assert result.create == [] and result.delete == [] and result.events == []
    assert released(result) == ["left"] and result.requeue_after is None


def test_a_job_being_deleted_creates_nothing_and_releases_its_pods():
    job = a_job(completions=3, parallelism=2).deleting().started().build()
    pods = [a_pod(name="run").running().build(), a_pod(name="ok").succeeded().build()]
    result = plan_at(job, pods)
    assert result.create == [] and result.delete == []
    assert sorted(released(result)) == ["ok", "run"]
    assert result.status["uncountedTerminatedPods"] == {"succeeded": [pods[1]["metadata"]["uid"]]}


def test_unknown_completion_mode_is_skipped_with_a_warning():
    result = plan_at(a_job(completionMode="Sparse").build(), [])
    assert result.create == [] and not result.write_status
    assert [(e.type, e.reason) for e in result.events] == [("Warning", "UnknownCompletionMode")]


def test_nothing_to_do_writes_nothing():
    job = a_job(completions=2).started().build()
    pods = [a_pod().running().build()]
    first = plan_at(job, pods)
    job["status"] = first.status
    second = plan_at(job, pods, seconds=30)
    assert not second.write_status and second.create == [] and second.events == []


def test_ready_counts_active_pods_with_ready_true():
    job = a_job(completions=5, parallelism=3).started().build()
    pods = [a_pod().running().build(), a_pod().running(ready=False).build(), a_pod().build()]
    status = plan_at(job, pods).status
    assert (status["active"], status["ready"], status["terminating"]) == (3, 1, 0)


def test_a_job_managed_by_another_controller_is_left_alone():
    job = a_job(completions=2, managedBy="kueue.x-k8s.io/multikueue").build()
    result = plan_at(job, [a_pod().succeeded().build()])
    assert result.create == [] and result.remove_finalizers == [] and not result.write_status
    assert plan_at(a_job(managedBy="kubernetes.io/job-controller").build(), []).create
