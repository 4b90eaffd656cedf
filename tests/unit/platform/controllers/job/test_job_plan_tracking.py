"""The two-phase count of finished pods: recorded in uncountedTerminatedPods with the status
write, finalizer released after it, moved into the counters on the next sync."""

from berth.platform.controllers.job import keys
from tests.unit.platform.controllers.job.job_builders import (
    a_job,
    a_pod,
    condition_of,
    plan_at,
    released,
)


def uid(pod):
    return pod["metadata"]["uid"]


def test_a_finished_pod_is_recorded_before_its_finalizer_goes():
    job = a_job(completions=3, parallelism=1).started().build()
    done, broken = a_pod(name="done").succeeded().build(), a_pod(name="broken").failed().build()
    result = plan_at(job, [done, broken], seconds=60)
    assert result.write_status
    assert result.status["uncountedTerminatedPods"] == {
        "succeeded": [uid(done)],
        "failed": [uid(broken)],
    }
    assert "succeeded" not in result.status and "failed" not in result.status
    assert released(result) == ["done", "broken"]
    assert result.requeue_after == 0


def test_a_recorded_pod_still_holding_its_finalizer_is_not_recorded_twice():
    done = a_pod(name="done").succeeded().build()
    job = (
        a_job(completions=3)
        .started()
        .status(uncountedTerminatedPods={"succeeded": [uid(done)]})
        .build()
    )
    result = plan_at(job, [done])
    assert result.status["uncountedTerminatedPods"] == {"succeeded": [uid(done)]}
    assert released(result) == ["done"]  # the removal is retried


def test_released_or_vanished_pods_move_into_the_counters():
    done = a_pod(name="done").succeeded().released().build()
    job = (
        a_job(completions=3)
        .started()
        .status(
            succeeded=1,
            failed=2,
            uncountedTerminatedPods={"succeeded": [uid(done)], "failed": ["gone-uid"]},
        )
        .build()
    )
    result = plan_at(job, [done])
    assert (result.status["succeeded"], result.status["failed"]) == (2, 3)
    assert result.status["uncountedTerminatedPods"] == {}
    assert released(result) == []


def test_a_pod_already_counted_as_failed_is_not_counted_as_succeeded():
    pod = a_pod(name="late").succeeded().build()
    job = (
        a_job(completions=3)
        .started()
        .status(uncountedTerminatedPods={"failed": [uid(pod)]})
        .build()
    )
    result = plan_at(job, [pod])
    assert result.status["uncountedTerminatedPods"] == {"failed": [uid(pod)]}


def test_released_pods_are_never_counted_again():
    job = a_job(completions=3).started().status(succeeded=1).build()
    result = plan_at(job, [a_pod().succeeded().released().build()])
    assert result.status["succeeded"] == 1 and result.status["uncountedTerminatedPods"] == {}


def test_no_more_than_500_pods_are_recorded_per_sync():
    job = a_job(completions=1000, parallelism=1).started().build()
    pods = [a_pod().succeeded().build() for _ in range(600)]
    result = plan_at(job, pods)
    assert len(result.status["uncountedTerminatedPods"]["succeeded"]) == 500
    assert len(result.remove_finalizers) == 500 and result.requeue_after == 0


def test_the_final_condition_waits_until_nothing_is_uncounted():
    held = a_pod(name="held").succeeded().build()
    job = (
        a_job(completions=1)
        .started()
        .condition(keys.SUCCESS_CRITERIA_MET, reason="CompletionsReached", message="m")
        .status(uncountedTerminatedPods={"succeeded": [uid(held)]})
        .build()
    )
    waiting = plan_at(job, [held])
    assert condition_of(waiting.status, keys.COMPLETE) is None and released(waiting) == ["held"]
    held["metadata"]["finalizers"] = []
    job["status"] = waiting.status
    folded = plan_at(job, [held])
    assert folded.status["succeeded"] == 1
    assert condition_of(folded.status, keys.COMPLETE)["reason"] == "CompletionsReached"


def test_indexed_successes_skip_the_uncounted_list():
    job = a_job(completions=2, parallelism=2).indexed().started().build()
    result = plan_at(job, [a_pod(index=1, name="one").succeeded().build()])
    assert result.status["completedIndexes"] == "1" and result.status["succeeded"] == 1
    assert result.status["uncountedTerminatedPods"] == {}
    assert released(result) == ["one"]


def test_indexed_failures_use_the_uncounted_list():
    job = a_job(completions=2, parallelism=2).indexed().started().build()
    bad = a_pod(index=1, name="one").failed().build()
    result = plan_at(job, [bad], seconds=60)
    assert result.status["uncountedTerminatedPods"] == {"failed": [uid(bad)]}
