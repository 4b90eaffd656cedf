"""Deleting pods that run: SIGTERM, the grace period, SIGKILL, and the final delete once the
agent reports the pod stopped."""

import threading
import time

import pytest

from berth.platform.resources import registry
from tests.integration.workers.kubelet_support import (
    NS,
    Harness,
    bound_pod,
    sh,
    terminated,
    wait_for,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def berth(ray_env, tmp_path):
    harness = Harness(ray_env, tmp_path)
    yield harness
    harness.close()


def test_a_pod_ignoring_sigterm_is_killed_after_its_grace_period_then_removed(berth):
    script = "trap 'echo got TERM' TERM; echo started; while true; do sleep 0.1; done"
    pod = berth.create(bound_pod("stubborn", berth.head, sh(script), grace=2))
    berth.wait_phase("stubborn", "Running")
    wait_for(lambda: berth.read_log(pod) == "started\n")
    followed = []
    follower = threading.Thread(target=lambda: followed.extend(berth.follow(pod)))
    follower.start()
    started = time.monotonic()
    berth.client.delete(registry.POD, NS, "stubborn")
    berth.wait_gone("stubborn", timeout=20)
    took = time.monotonic() - started
    follower.join(timeout=10)
    assert 1.8 < took < 8, took
    text = b"".join(c for _, c in followed)  # the shell may say "Terminated" for its sleep
    assert text.startswith(b"started\n") and text.endswith(b"got TERM\n"), text
    last = berth.versions(pod)[-1]
    assert last["metadata"]["deletionTimestamp"]
    assert last["status"]["phase"] == "Failed"
    assert terminated(last)["exitCode"] == 137


def test_a_pod_that_stops_on_sigterm_goes_without_waiting_for_its_grace(berth):
    pod = berth.create(bound_pod("polite", berth.head, sh("echo up; exec sleep 300"), grace=30))
    berth.wait_phase("polite", "Running")
    wait_for(lambda: berth.read_log(pod) == "up\n")
    started = time.monotonic()
    berth.client.delete(registry.POD, NS, "polite")
    berth.wait_gone("polite", timeout=20)
    assert time.monotonic() - started < 5
    assert terminated(berth.versions(pod)[-1])["exitCode"] == 143


def test_a_pod_deleted_before_it_ran_is_removed(berth):
    berth.create(
        bound_pod(
            "never",
            berth.head,
            sh("true"),
            volumes=[{"name": "v", "configMap": {"name": "missing"}}],
        )
    )
    wait_for(lambda: (berth.get("never").get("status") or {}).get("containerStatuses"))
    berth.client.delete(registry.POD, NS, "never")
    berth.wait_gone("never", timeout=20)


def test_a_finalizer_keeps_a_stopped_pod_until_it_is_removed(berth):
    manifest = bound_pod("held", berth.head, sh("exec sleep 300"))
    manifest["metadata"]["finalizers"] = ["example.com/hold"]
    pod = berth.create(manifest)
    berth.wait_phase("held", "Running")
    berth.client.delete(registry.POD, NS, "held")
    stopped = berth.wait_phase("held", "Failed", "Succeeded", timeout=20)
    assert stopped["metadata"]["deletionTimestamp"]

    def release(obj):
        obj["metadata"]["finalizers"] = []
        return obj

    berth.client.guaranteed_update(registry.POD, NS, "held", release)
    berth.wait_gone("held", timeout=10)
    assert berth.versions(pod)[-1]["status"]["phase"] in ("Failed", "Succeeded")
