"""Restarts: a Job controller that stops mid-run, or dies between any two writes of a Plan, and
starts again with no memory on the same database, neither loses nor double-counts a pod."""

from __future__ import annotations

import random

import pytest

from berth.platform.cache.informers import InformerHub
from berth.platform.controllers.job import keys
from berth.platform.controllers.job.controller import JobController
from berth.platform.resources import registry
from berth.platform.store.events import EventRecorder
from tests.integration.controllers.job_harness import (
    NS,
    FakeClock,
    FakeKubelet,
    active,
    finished,
    job_manifest,
    tracked,
    wait_for,
)


def _phases(pods: list[dict]) -> list[str]:
    return [p["status"].get("phase") for p in pods]


@pytest.mark.parametrize("mode", ["NonIndexed", "Indexed"])
def test_controllers_restarted_mid_run_count_every_pod_once(cluster, mode):
    outcome: dict[str, int] = {}  # pod name -> exit code the kubelet reports; others keep running
    cluster.kubelet.exit_code = lambda pod: outcome.get(pod["metadata"]["name"])
    cluster.start()
    cluster.create_job("steady", completions=6, parallelism=3, backoffLimit=6, completionMode=mode)

    def end(count: int, code: int) -> None:
        running = sorted(p["metadata"]["name"] for p in active(cluster.pods("steady")))
        for name in [n for n in running if n not in outcome][:count]:
            outcome[name] = code

    wait_for(lambda: len(active(cluster.pods("steady"))) == 3, "three running pods")
    end(1, 0)
    wait_for(lambda: cluster.status("steady").get("succeeded") == 1, "the first success counted")

    cluster.stop_controllers()
    end(1, 0)
    end(1, 1)
    wait_for(
        lambda: (
            _phases(cluster.pods("steady")).count(keys.SUCCEEDED) == 2
            and _phases(cluster.pods("steady")).count(keys.FAILED) == 1
        ),
        "pods ending while no controller runs",
    )
    assert len(tracked(cluster.pods("steady"))) == 3, "held for the controller that is down"

    cluster.start()
    cluster.kubelet.exit_code = lambda pod: outcome.get(pod["metadata"]["name"], 0)
    status = wait_for(lambda: finished(s := cluster.status("steady")) and s, "steady to finish")

    pods = cluster.pods("steady")
    assert finished(status) == keys.COMPLETE
    assert status["succeeded"] == _phases(pods).count(keys.SUCCEEDED) == 6
    assert status["failed"] == _phases(pods).count(keys.FAILED) == 1
    assert not tracked(pods) and not status.get("uncountedTerminatedPods")
    if mode == "Indexed":
        assert status["completedIndexes"] == "0-5"


class Crash(Exception):
    """The controller process dies here."""


class CrashingClient:
    """The store client, but the process dies before the write numbered ``budget``."""

    WRITES = ("create", "create_many", "update", "update_status", "guaranteed_update", "delete")

    def __init__(self, client, budget: int | None) -> None:
        self._client = client
        self.budget = budget

    def __getattr__(self, name: str):
        attr = getattr(self._client, name)
        if name not in self.WRITES:
            return attr

        def write(*args, **kwargs):
            if self.budget is not None:
                if self.budget <= 0:
                    raise Crash(name)
                self.budget -= 1
            return attr(*args, **kwargs)

        return write


def _exit_code(pod: dict) -> int | None:
    statuses = pod["status"].get("containerStatuses") or [{}]
    return statuses[0].get("state", {}).get("terminated", {}).get("exitCode")


def _world_tick(kubelet: FakeKubelet, rng: random.Random) -> None:
    """Pods start, succeed or fail at random; the kubelet stops what was deleted."""
    outcomes = {}
    for pod in kubelet.client.list(registry.POD, NS).items:
        if pod["status"].get("phase") == keys.RUNNING and rng.random() < 0.3:
            outcomes[pod["metadata"]["name"]] = 1 if rng.random() < 0.35 else 0
        if pod["status"].get("phase") == keys.PENDING and rng.random() < 0.3:
            continue  # not started yet
        kubelet.exit_code = lambda p: outcomes.get(p["metadata"]["name"])
        kubelet._step(pod)
    kubelet.clock.advance(rng.choice([1, 5, 15, 60]))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("mode", ["NonIndexed", "Indexed"])
def test_a_controller_dying_between_any_two_writes_counts_every_pod_once(platform, seed, mode):
    rng = random.Random(seed)
    clock = FakeClock()
    platform.client.clock = clock
    kubelet = FakeKubelet(platform.client, clock)  # stepped by hand: no thread
    platform.client.create(
        registry.JOB,
        job_manifest("crashy", completions=8, parallelism=3, backoffLimit=100, completionMode=mode),
        NS,
    )
    crashes = 0
    for _ in range(400):
        if finished(platform.client.get(registry.JOB, NS, "crashy").get("status") or {}):
            break
        _world_tick(kubelet, rng)
        dies = rng.random() < 0.5
        client = CrashingClient(platform.client, rng.randrange(6) if dies else None)
        # A fresh controller each sync: one that died remembers nothing, like a new process,
        # and starts from caches listed afresh.
        controller = JobController(
            client, EventRecorder(client, "job-controller"), clock=clock, rng=rng
        )
        hub = InformerHub(platform.client, platform.feed)
        controller.setup(hub, lambda key, after=0.0: None)
        hub.list_once()
        try:
            controller.reconcile((NS, "crashy"))
        except Crash:
            crashes += 1
    else:
        raise AssertionError("the Job never finished")

    status = platform.client.get(registry.JOB, NS, "crashy")["status"]
    pods = platform.client.list(registry.POD, NS).items
    succeeded = [p for p in pods if p["status"].get("phase") == keys.SUCCEEDED]
    failed = [p for p in pods if _exit_code(p) == 1]
    assert crashes > 0
    assert finished(status) == keys.COMPLETE
    assert not tracked(pods) and not status.get("uncountedTerminatedPods")
    assert status.get("failed", 0) == len(failed)
    if mode == "Indexed":
        indexes = {p["metadata"]["annotations"][keys.COMPLETION_INDEX] for p in succeeded}
        assert status["completedIndexes"] == "0-7" and indexes == {str(i) for i in range(8)}
        assert status["succeeded"] == 8
    else:
        assert status["succeeded"] == len(succeeded) >= 8
