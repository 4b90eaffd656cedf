"""The Job controller on a real store: failure backoff, backoffLimit, podFailurePolicy,
deadlines."""

from __future__ import annotations

from berth.platform.controllers.job import keys
from tests.integration.controllers.job_harness import (
    active,
    condition,
    finished,
    stays,
    tracked,
    wait_for,
)


def test_backoff_limit_exceeded_after_exponential_backoff(cluster):
    cluster.kubelet.exit_code = lambda pod: 1
    cluster.start()
    cluster.create_job("flaky", backoffLimit=2)

    def failed(count: int) -> None:
        wait_for(
            lambda: (
                cluster.status("flaky").get("failed") == count
                and not cluster.status("flaky").get("active")
            ),
            f"{count} failure(s) counted",
        )

    failed(1)
    stays(lambda: len(cluster.pods("flaky")) == 1, "no replacement before the 10s backoff")
    cluster.advance(10)
    wait_for(lambda: len(cluster.pods("flaky")) == 2, "the replacement after 10s")
    failed(2)
    cluster.advance(19)
    stays(lambda: len(cluster.pods("flaky")) == 2, "the second backoff is 20s, not 10s")
    cluster.advance(1)
    wait_for(lambda: len(cluster.pods("flaky")) == 3, "the replacement after 20s")

    status = wait_for(lambda: finished(s := cluster.status("flaky")) and s, "flaky to fail")
    assert finished(status) == keys.FAILED_CONDITION
    assert condition(status, keys.FAILED_CONDITION)["reason"] == keys.BACKOFF_LIMIT_EXCEEDED
    assert condition(status, keys.FAILURE_TARGET)["reason"] == keys.BACKOFF_LIMIT_EXCEEDED
    assert status["failed"] == 3 and "succeeded" not in status
    assert not tracked(cluster.pods("flaky"))
    wait_for(
        lambda: keys.BACKOFF_LIMIT_EXCEEDED in cluster.reasons("flaky"),
        "the BackoffLimitExceeded event",
    )
    warning = next(e for e in cluster.events("flaky") if e["reason"] == keys.BACKOFF_LIMIT_EXCEEDED)
    assert warning["type"] == "Warning" and warning["message"] == keys.BACKOFF_LIMIT_MESSAGE


def test_pod_failure_policy_fails_the_job_on_an_exit_code(cluster):
    cluster.kubelet.exit_code = lambda pod: 42
    cluster.start()
    rule = {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}
    cluster.create_job("strict", backoffLimit=6, podFailurePolicy={"rules": [rule]})

    status = wait_for(lambda: finished(s := cluster.status("strict")) and s, "strict to fail")

    assert finished(status) == keys.FAILED_CONDITION
    failed = condition(status, keys.FAILED_CONDITION)
    pod = cluster.pods("strict")[0]["metadata"]["name"]
    assert failed["reason"] == keys.POD_FAILURE_POLICY
    assert failed["message"] == (
        f"Container main for pod default/{pod} failed with exit code 42 "
        "matching FailJob rule at index 0"
    )
    assert len(cluster.pods("strict")) == 1, "FailJob ends the Job at the first such failure"
    assert status["failed"] == 1


def test_active_deadline_stops_the_pods_and_fails_the_job(cluster):
    cluster.kubelet.exit_code = lambda pod: None  # never ends by itself
    cluster.start()
    cluster.create_job("slow", completions=3, parallelism=2, activeDeadlineSeconds=30)
    wait_for(lambda: len(active(cluster.pods("slow"))) == 2, "two running pods")

    cluster.advance(29)
    stays(lambda: not finished(cluster.status("slow")), "no deadline before 30s")
    cluster.advance(2)
    status = wait_for(lambda: finished(s := cluster.status("slow")) and s, "slow to fail")

    assert finished(status) == keys.FAILED_CONDITION
    assert condition(status, keys.FAILED_CONDITION)["reason"] == keys.DEADLINE_EXCEEDED
    assert condition(status, keys.FAILED_CONDITION)["message"] == keys.DEADLINE_MESSAGE
    assert status["failed"] == 2 and not status.get("active")
    # Stopped by their kubelet, counted, released: the store removes them.
    wait_for(lambda: not cluster.pods("slow"), "the stopped pods to go")
