"""The Job controller on a real store: suspend and resume, TTL after finished, deleting a Job."""

from __future__ import annotations

import threading

import pytest

from berth.platform.controllers.job import keys
from berth.platform.resources import registry
from tests.integration.controllers.job_harness import (
    NS,
    active,
    condition,
    finished,
    stays,
    tracked,
    wait_for,
)


def _set_suspend(cluster, name: str, flag: bool) -> None:
    def mutate(job: dict) -> dict:
        job["spec"]["suspend"] = flag
        return job

    cluster.client.guaranteed_update(registry.JOB, NS, name, mutate)


def test_suspend_deletes_the_pods_and_resume_starts_again(cluster):
    release = threading.Event()
    cluster.kubelet.exit_code = lambda pod: 0 if release.is_set() else None
    cluster.start()
    cluster.create_job("nap", completions=2, parallelism=2)
    wait_for(lambda: len(active(cluster.pods("nap"))) == 2, "two running pods")

    _set_suspend(cluster, "nap", True)
    status = wait_for(
        lambda: (
            condition(s := cluster.status("nap"), keys.SUSPENDED) and not cluster.pods("nap") and s
        ),
        "the Job suspended and its pods gone",
    )
    assert condition(status, keys.SUSPENDED)["reason"] == keys.JOB_SUSPENDED
    assert not status.get("active") and not status.get("failed"), (
        "pods of a suspension are not failures"
    )
    assert "startTime" not in status

    release.set()
    _set_suspend(cluster, "nap", False)
    status = wait_for(
        lambda: finished(s := cluster.status("nap")) and s, "nap to finish after resuming"
    )

    assert finished(status) == keys.COMPLETE
    suspended = next(c for c in status["conditions"] if c["type"] == keys.SUSPENDED)
    assert (suspended["status"], suspended["reason"]) == ("False", keys.JOB_RESUMED)
    assert status["succeeded"] == 2 and not status.get("failed")
    reasons = wait_for(
        lambda: "Completed" in (r := cluster.reasons("nap")) and r, "the Completed event"
    )
    assert reasons.count("SuccessfulCreate") == 4 and reasons.count("SuccessfulDelete") == 2
    assert {"Suspended", "Resumed"} <= set(reasons)


def test_ttl_after_finished_deletes_the_job_and_its_pods(cluster):
    cluster.start()
    cluster.create_job("brief", completions=2, parallelism=2, ttlSecondsAfterFinished=60)
    wait_for(lambda: finished(cluster.status("brief")), "brief to finish")
    assert len(cluster.pods("brief")) == 2

    cluster.advance(59)
    stays(lambda: cluster.job("brief") is not None, "the Job kept until its TTL has passed")
    cluster.advance(1)

    wait_for(lambda: cluster.job("brief") is None, "the Job deleted by its TTL")
    wait_for(lambda: not cluster.pods("brief"), "its pods collected")


def test_ttl_is_read_again_before_deleting(cluster):
    cluster.start()
    cluster.create_job("kept", ttlSecondsAfterFinished=10)
    wait_for(lambda: finished(cluster.status("kept")), "kept to finish")

    def longer(job: dict) -> dict:
        job["spec"]["ttlSecondsAfterFinished"] = 100
        return job

    cluster.client.guaranteed_update(registry.JOB, NS, "kept", longer)
    cluster.advance(50)
    stays(lambda: cluster.job("kept") is not None, "a raised TTL is honoured")
    cluster.advance(50)
    wait_for(lambda: cluster.job("kept") is None, "the Job deleted at its new TTL")


@pytest.mark.parametrize("propagation", ["Background", "Foreground"])
def test_deleting_a_job_collects_its_pods(cluster, propagation):
    cluster.kubelet.exit_code = lambda pod: None
    cluster.start()
    cluster.create_job("gone", completions=3, parallelism=3)
    wait_for(lambda: len(active(cluster.pods("gone"))) == 3, "three running pods")

    cluster.client.delete(registry.JOB, NS, "gone", propagation_policy=propagation)

    wait_for(
        lambda: not cluster.pods("gone"), "every pod collected, none held by the tracking finalizer"
    )
    wait_for(lambda: cluster.job("gone") is None, "the Job gone")


def test_a_job_deleted_while_the_controllers_were_down_leaves_no_pod_behind(cluster):
    cluster.kubelet.exit_code = lambda pod: None
    cluster.start()
    cluster.create_job("gone", completions=3, parallelism=3, backoffLimit=100)
    wait_for(lambda: len(active(cluster.pods("gone"))) == 3, "three running pods")
    cluster.stop_controllers()
    cluster.kubelet.exit_code = lambda pod: 1
    wait_for(
        lambda: all(p["status"]["phase"] == keys.FAILED for p in cluster.pods("gone")),
        "the pods to fail",
    )
    assert len(tracked(cluster.pods("gone"))) == 3, "no controller released them"
    cluster.client.delete(registry.JOB, NS, "gone", propagation_policy="Background")

    cluster.start()

    wait_for(
        lambda: not cluster.pods("gone"), "every pod collected, none held by the tracking finalizer"
    )


def test_orphaning_a_job_releases_the_finalizers_and_keeps_the_pods(cluster):
    cluster.kubelet.exit_code = lambda pod: None
    cluster.start()
    cluster.create_job("left", completions=2, parallelism=2)
    wait_for(lambda: len(active(cluster.pods("left"))) == 2, "two running pods")

    cluster.client.delete(registry.JOB, NS, "left", propagation_policy="Orphan")

    wait_for(lambda: cluster.job("left") is None, "the Job gone")
    pods = wait_for(lambda: not tracked(p := cluster.pods("left")) and p, "the finalizers released")
    assert len(pods) == 2 and len(active(pods)) == 2
    assert all(not p["metadata"].get("ownerReferences") for p in pods)
