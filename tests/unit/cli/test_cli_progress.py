"""What ``berth run`` shows while it follows a Job: counts, waiting reasons, verdicts, prefixes."""

from __future__ import annotations

import pytest

from berth.cli.progress import (
    Progress,
    describe_progress,
    describe_verdict,
    has_run,
    log_prefix,
    pod_failure,
    progress,
    verdict,
)


def a_pod(
    name="p", phase="Pending", *, index=None, deleting=False, conditions=None, container_state=None
) -> dict:
    meta = {"name": name}
    if index is not None:
        meta["annotations"] = {"batch.kubernetes.io/job-completion-index": str(index)}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    status = {"phase": phase}
    if conditions:
        status["conditions"] = conditions
    if container_state:
        status["containerStatuses"] = [{"name": "main", "state": container_state}]
    return {"metadata": meta, "status": status}


def a_job(*, active=0, succeeded=0, failed=0, conditions=None, **spec) -> dict:
    status = {"active": active, "succeeded": succeeded, "failed": failed}
    if conditions:
        status["conditions"] = conditions
    return {"metadata": {"name": "j"}, "spec": spec, "status": status}


@pytest.mark.parametrize(
    "job, pods, expected",
    [
        (a_job(), [], Progress(0, 0, 0, 0)),
        # the Job counts two active pods the watch has not shown yet: pending
        (a_job(active=2), [], Progress(2, 0, 0, 0)),
        (a_job(active=2), [a_pod("a", "Running"), a_pod("b")], Progress(1, 1, 0, 0)),
        # a pod just finished that the controller has not counted: neither pending nor running
        (a_job(active=2), [a_pod("a", "Succeeded"), a_pod("b", "Running")], Progress(0, 1, 0, 0)),
        (
            a_job(active=1, succeeded=1),
            [a_pod("a", "Succeeded"), a_pod("b", "Running")],
            Progress(0, 1, 1, 0),
        ),
        # the controller has not caught up with a created pod either
        (a_job(active=0), [a_pod("a")], Progress(1, 0, 0, 0)),
        (a_job(failed=1), [a_pod("a", "Failed")], Progress(0, 0, 0, 1)),
        (a_job(active=1), [a_pod("old", "Running", deleting=True)], Progress(1, 0, 0, 0)),
    ],
)
def test_progress(job, pods, expected):
    assert progress(job, pods) == expected


def test_waiting_reason_of_an_unschedulable_pod():
    pod = a_pod(
        conditions=[
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": "0/1 nodes are available: 1 Insufficient nvidia.com/gpu.",
            }
        ]
    )
    p = progress(a_job(active=1), [pod])
    assert p.waiting == "0/1 nodes are available: 1 Insufficient nvidia.com/gpu."
    assert describe_progress("j", p) == (
        "job.batch/j: 1 pending, 0 running, 0 succeeded, "
        "0 failed (0/1 nodes are available: 1 Insufficient "
        "nvidia.com/gpu.)"
    )


@pytest.mark.parametrize(
    "conditions, expected",
    [
        (None, None),
        ([{"type": "Suspended", "status": "True"}], None),
        ([{"type": "Complete", "status": "False"}], None),
        ([{"type": "SuccessCriteriaMet", "status": "True"}], None),
        ([{"type": "Complete", "status": "True"}], (True, "Completed", "")),
        (
            [
                {"type": "FailureTarget", "status": "True", "reason": "BackoffLimitExceeded"},
                {
                    "type": "Failed",
                    "status": "True",
                    "reason": "BackoffLimitExceeded",
                    "message": "Job has reached the specified backoff limit",
                },
            ],
            (False, "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
        ),
    ],
)
def test_verdict(conditions, expected):
    found = verdict(a_job(conditions=conditions))
    assert (found and (found.succeeded, found.reason, found.message)) == expected


def test_describe_verdict():
    done = a_job(succeeded=3, completions=3, conditions=[{"type": "Complete", "status": "True"}])
    assert describe_verdict("j", done, verdict(done)) == "job.batch/j completed (3/3 succeeded)"
    failed = a_job(
        conditions=[
            {
                "type": "Failed",
                "status": "True",
                "reason": "DeadlineExceeded",
                "message": "Job was active longer than specified deadline",
            }
        ]
    )
    assert describe_verdict("j", failed, verdict(failed)) == (
        "job.batch/j failed: DeadlineExceeded: Job was active longer than specified deadline"
    )


@pytest.mark.parametrize(
    "pod, ran",
    [
        (a_pod(), False),
        (a_pod(container_state={"waiting": {"reason": "ContainerCreating"}}), False),
        (a_pod(container_state={"running": {}}), True),
        (a_pod("p", "Running"), True),
        (a_pod("p", "Succeeded"), True),
        (a_pod("p", "Failed"), True),
    ],
)
def test_has_run(pod, ran):
    assert has_run(pod) is ran


@pytest.mark.parametrize(
    "job, pod, prefix",
    [
        (a_job(), a_pod("j-abc"), ""),
        (a_job(completions=1, parallelism=1), a_pod("j-abc"), ""),
        (a_job(completions=3), a_pod("j-abc"), "[j-abc] "),
        (a_job(parallelism=2), a_pod("j-abc"), "[j-abc] "),
        (a_job(completionMode="Indexed", completions=4), a_pod("j-2-x", index=2), "[2] "),
        (a_job(completionMode="Indexed", completions=1), a_pod("j-0-x", index=0), "[0] "),
    ],
)
def test_log_prefix(job, pod, prefix):
    assert log_prefix(job, pod) == prefix


@pytest.mark.parametrize(
    "pod, text",
    [
        (a_pod("p", "Running"), None),
        (a_pod("p", "Succeeded"), None),
        (
            a_pod(
                "p", "Failed", container_state={"terminated": {"exitCode": 3, "reason": "Error"}}
            ),
            "pod/p failed: Error (exit code 3)",
        ),
        (
            a_pod(
                "p",
                "Failed",
                container_state={
                    "terminated": {
                        "exitCode": 127,
                        "reason": "StartError",
                        "message": "sh: nope: not found\n",
                    }
                },
            ),
            "pod/p failed: StartError (exit code 127): sh: nope: not found",
        ),
        (
            {
                "metadata": {"name": "p"},
                "status": {
                    "phase": "Failed",
                    "reason": "DeadlineExceeded",
                    "message": "Pod was active too long",
                },
            },
            "pod/p failed: DeadlineExceeded: Pod was active too long",
        ),
    ],
)
def test_pod_failure(pod, text):
    assert pod_failure(pod) == text
