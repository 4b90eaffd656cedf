"""Crash anywhere: a controller killed between any two writes of any Plan, then restarted with
no memory, still counts every pod that finished while tracked exactly once.

A seeded world runs pods to success or failure, evicts some, garbage-collects released pods,
changes parallelism and suspends the Job now and then; between its moves the controller plans
and applies the Plan write by write (deletions, status, finalizer removals, creations), and in
about a third of the syncs dies after a random number of those writes, losing its in-memory
tracking. A ledger watches the store after every write: a pod belongs to the truth once it has
been seen finished (Succeeded; Failed, or deleted before succeeding under the default
replacement policy, or still unfinished once the Job is failing) while still holding the
tracking finalizer, which is exactly the set of pods the Job owes a count.
"""

import random

import pytest

from berth.platform.controllers.job import indexes, keys
from tests.unit.platform.controllers.job.job_builders import Cluster, a_job


class Ledger:
    def __init__(self, cluster: Cluster, deleted_is_failed: bool = True) -> None:
        self.cluster = cluster
        # Under podReplacementPolicy: Failed a deleted pod owes a count only once it is Failed.
        self.deleted_is_failed = deleted_is_failed
        self.succeeded: set[str] = set()
        self.failed: set[str] = set()
        self.indexes: set[int] = set()

    def observe(self) -> None:
        # A failing Job takes every pod it still tracks down with it: each counts as failed.
        failing = any(
            c["type"] in (keys.FAILURE_TARGET, keys.FAILED_CONDITION) and c["status"] == "True"
            for c in self.cluster.job["status"].get("conditions", [])
        )
        for pod in self.cluster.pods.values():
            meta = pod["metadata"]
            if keys.TRACKING_FINALIZER not in meta.get("finalizers", []):
                continue
            phase = pod["status"].get("phase")
            if phase == keys.SUCCEEDED:
                self.succeeded.add(meta["uid"])
                if keys.COMPLETION_INDEX in meta.get("annotations", {}):
                    self.indexes.add(int(meta["annotations"][keys.COMPLETION_INDEX]))
            elif (
                phase == keys.FAILED
                or failing
                or (self.deleted_is_failed and meta.get("deletionTimestamp"))
            ):
                self.failed.add(meta["uid"])


def world_tick(cluster: Cluster, rng: random.Random, tick: int, p_fail: float) -> None:
    for name in list(cluster.pods):
        pod = cluster.pods.get(name)
        if pod is None:
            continue
        phase = pod["status"].get("phase")
        terminal = phase in (keys.SUCCEEDED, keys.FAILED)
        roll = rng.random()
        if pod["metadata"].get("deletionTimestamp") and not terminal:
            if roll < 0.6:
                cluster.finish(name, 137)  # the kubelet kills it
        elif phase == keys.PENDING:
            if roll < 0.6:
                cluster.run(name, ready=rng.random() < 0.8)
        elif phase == keys.RUNNING:
            if roll < p_fail:
                cluster.finish(name, 1)
            elif roll < p_fail + 0.3:
                cluster.finish(name, 0)
            elif roll < p_fail + 0.34:
                cluster.delete(name)  # evicted, or someone ran kubectl delete pod
        elif terminal and not pod["metadata"].get("finalizers") and roll < 0.3:
            del cluster.pods[name]  # pod garbage collection
    spec = cluster.job["spec"]
    if tick < 150:
        if rng.random() < 0.05:
            spec["parallelism"] = rng.randint(0, 4)
        if rng.random() < 0.04:
            spec["suspend"] = not spec.get("suspend", False)
    else:
        spec["parallelism"] = max(spec.get("parallelism", 1), 1)
        spec["suspend"] = False
    cluster.advance(rng.choice([1, 5, 15, 60]))


def finished(cluster: Cluster) -> bool:
    return any(
        c["type"] in (keys.COMPLETE, keys.FAILED_CONDITION) and c["status"] == "True"
        for c in cluster.job["status"].get("conditions", [])
    )


def run(job: dict, seed: int, p_fail: float, folded: bool) -> tuple[Cluster, Ledger]:
    rng = random.Random(seed)
    cluster = Cluster(job, seed=seed, folded=folded)
    ledger = Ledger(cluster, job["spec"].get("podReplacementPolicy") != "Failed")
    cluster.on_write = ledger.observe
    for tick in range(3000):
        if finished(cluster):
            return cluster, ledger
        world_tick(cluster, rng, tick, p_fail)
        steps = cluster.steps(cluster.plan())
        if rng.random() < 0.35:
            for step in steps[: rng.randrange(len(steps) + 1)]:
                step()
            cluster.tracking = None  # the restarted controller remembers nothing
        else:
            for step in steps:
                step()
    raise AssertionError(f"seed {seed}: the Job never finished: {cluster.job['status']}")


def assert_counted_exactly_once(cluster: Cluster, ledger: Ledger, indexed: bool) -> None:
    status = cluster.job["status"]
    assert not status.get("uncountedTerminatedPods")
    assert not [
        n for n, p in cluster.pods.items() if keys.TRACKING_FINALIZER in p["metadata"]["finalizers"]
    ]
    assert status.get("failed", 0) == len(ledger.failed)
    if indexed:
        completions = cluster.job["spec"]["completions"]
        done = indexes.parse(status.get("completedIndexes", ""))
        assert done == {i for i in ledger.indexes if i < completions}
        assert status.get("succeeded", 0) == len(done)
    else:
        assert status.get("succeeded", 0) == len(ledger.succeeded)


SEEDS = range(40)


@pytest.fixture(params=[False, True], ids=["two-phase", "folded"])
def folded(request) -> bool:
    """Plans as ``plan`` makes them, or as the controller applies them (``plan_folded``:
    status and finalizer removals in one transaction)."""
    return request.param


@pytest.mark.parametrize("seed", SEEDS)
def test_fixed_completions(seed, folded):
    job = a_job(completions=5, parallelism=3, backoffLimit=4).build()
    cluster, ledger = run(job, seed, p_fail=0.15, folded=folded)
    assert_counted_exactly_once(cluster, ledger, indexed=False)


@pytest.mark.parametrize("seed", SEEDS)
def test_indexed(seed, folded):
    job = a_job(completions=6, parallelism=3, backoffLimit=5).indexed().build()
    cluster, ledger = run(job, seed, p_fail=0.15, folded=folded)
    assert_counted_exactly_once(cluster, ledger, indexed=True)


@pytest.mark.parametrize("seed", SEEDS)
def test_work_queue(seed, folded):
    job = a_job(parallelism=3, backoffLimit=3).build()
    cluster, ledger = run(job, seed, p_fail=0.1, folded=folded)
    assert_counted_exactly_once(cluster, ledger, indexed=False)


@pytest.mark.parametrize("seed", range(20))
def test_failing_jobs_count_the_pods_they_stop(seed, folded):
    job = a_job(completions=8, parallelism=4, backoffLimit=1).build()
    cluster, ledger = run(job, seed, p_fail=0.5, folded=folded)
    assert_counted_exactly_once(cluster, ledger, indexed=False)


@pytest.mark.parametrize("seed", range(20))
def test_replacing_only_failed_pods(seed, folded):
    job = a_job(completions=5, parallelism=3, backoffLimit=4, podReplacementPolicy="Failed").build()
    cluster, ledger = run(job, seed, p_fail=0.15, folded=folded)
    assert_counted_exactly_once(cluster, ledger, indexed=False)


@pytest.mark.parametrize("seed", range(20))
def test_backoff_limit_per_index(seed, folded):
    job = a_job(completions=5, parallelism=3, backoffLimitPerIndex=1).indexed().build()
    cluster, ledger = run(job, seed, p_fail=0.25, folded=folded)
    assert_counted_exactly_once(cluster, ledger, indexed=True)
