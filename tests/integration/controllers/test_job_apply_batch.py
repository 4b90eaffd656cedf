"""Group commits across Jobs: the Plans of many Jobs go to the store in ONE transaction, the
pods of all of them in one ``create_many``; a refused status write (a Job that changed since
it was planned) stops only its own Job, and each Job's expectations are the revision of its
own last write."""

from __future__ import annotations

import random

import pytest

from berth.platform.cache.informers import InformerHub
from berth.platform.controllers.job import keys
from berth.platform.controllers.job.apply import Pending, apply_plans
from berth.platform.controllers.job.controller import JobController
from berth.platform.controllers.job.plan import Event, Plan, PodRef
from berth.platform.errors import Conflict
from berth.platform.resources import registry
from berth.platform.store import db_writes as store_db
from berth.platform.store.events import EventRecorder
from tests.integration.controllers.job_harness import NS, job_manifest, wait_for
from tests.integration.controllers.test_job_apply_commit import _events, _pod


@pytest.fixture
def transactions(monkeypatch) -> list[int]:
    """Counts the store's write transactions (a batch is one; each write outside one is one)."""
    opened: list[int] = []

    class Counted(store_db.WriteTransaction):
        def __enter__(self):
            opened.append(1)
            return super().__enter__()

    monkeypatch.setattr(store_db, "WriteTransaction", Counted)
    return opened


def _jobs_with_done_pods(client, names: list[str]) -> list[tuple[dict, dict]]:
    made = []
    for name in names:
        job = client.create(registry.JOB, job_manifest(name), NS)
        made.append((job, client.create(registry.POD, _pod(f"{name}-done", job), NS)))
    return made


def _plan(job: dict, done: dict) -> Plan:
    name = job["metadata"]["name"]
    return Plan(
        status={"active": 1},
        write_status=True,
        remove_finalizers=[PodRef(done["metadata"]["name"], done["metadata"]["uid"])],
        create=[_pod(f"{name}-new", job)],
        events=[Event("Normal", "SuccessfulCreate", f"Created pod: {name}-new")],
    )


def test_many_jobs_commit_in_one_transaction_and_one_create_many(platform, transactions):
    client = platform.client
    made = _jobs_with_done_pods(client, ["a", "b", "c"])
    creates: list[tuple[str, int]] = []
    create_many = client.create_many

    def counted(rt, objs, **kw):
        creates.append((rt.key, len(objs)))
        return create_many(rt, objs, **kw)

    client.create_many = counted  # type: ignore[method-assign]
    remembered: list[str] = []
    pending = [
        Pending(job, _plan(job, done), lambda _t, n=job["metadata"]["name"]: remembered.append(n))
        for job, done in made
    ]
    before = len(transactions)
    applied = apply_plans(client, EventRecorder(client, "job-controller"), pending)
    assert len(transactions) - before == 1  # one transaction for the three Jobs
    # The pods of all three in one create_many, then their events in another.
    assert creates == [(registry.POD.key, 3), (registry.EVENT.key, 3)]
    assert [a.error for a in applied] == [None, None, None]
    assert remembered == ["a", "b", "c"]
    for (job, done), out in zip(made, applied, strict=True):
        name = job["metadata"]["name"]
        assert client.get(registry.JOB, NS, name)["status"] == {"active": 1}
        assert (
            "finalizers" not in client.get(registry.POD, NS, done["metadata"]["name"])["metadata"]
        )
        # The Job's last write is its new pod: its expectations wait for exactly that.
        new = client.get(registry.POD, NS, f"{name}-new")
        assert out.rv == int(new["metadata"]["resourceVersion"])
    assert len({a.rv for a in applied}) == 3
    assert len(_events(client, "SuccessfulCreate")) == 3


def test_a_refused_status_write_stops_only_its_own_job(platform, transactions):
    client = platform.client
    made = _jobs_with_done_pods(client, ["a", "b", "c"])
    _, b_done = made[1]
    stale = made[1][0]
    client.update(registry.JOB, {**stale, "status": {"active": 0}}, NS, "b", subresource="status")
    remembered: list[str] = []
    pending = [
        Pending(job, _plan(job, done), lambda _t, n=job["metadata"]["name"]: remembered.append(n))
        for job, done in made
    ]
    before = len(transactions)
    applied = apply_plans(client, EventRecorder(client, "job-controller"), pending)
    assert len(transactions) - before == 1
    assert isinstance(applied[1].error, Conflict) and applied[1].rv is None
    assert applied[0].error is None and applied[2].error is None
    assert remembered == ["a", "c"]
    # b: nothing written, its finalizer held, no pod, no event.
    assert client.get(registry.JOB, NS, "b")["status"] == {"active": 0}
    assert client.get(registry.POD, NS, "b-done")["metadata"]["finalizers"] == [
        keys.TRACKING_FINALIZER
    ]
    assert client.try_get(registry.POD, NS, "b-new") is None
    messages = {e["message"] for e in _events(client, "SuccessfulCreate")}
    assert messages == {"Created pod: a-new", "Created pod: c-new"}
    # a and c: all written.
    for name in ("a", "c"):
        assert client.get(registry.JOB, NS, name)["status"] == {"active": 1}
        assert client.try_get(registry.POD, NS, f"{name}-new") is not None
        assert "finalizers" not in client.get(registry.POD, NS, f"{name}-done")["metadata"]


def test_the_controller_syncs_a_batch_in_one_transaction_with_expectations_per_job(
    platform, transactions
):
    client = platform.client
    hub = InformerHub(client, platform.feed)
    controller = JobController(
        client, EventRecorder(client, "job-controller"), rng=random.Random(0)
    )
    controller.setup(hub, lambda key, delay=0.0: None)  # the test drives the syncs
    hub.start()
    try:
        assert hub.synced.wait(10)
        names = ["j0", "j1", "j2", "j3"]
        for name in names:
            client.create(registry.JOB, job_manifest(name), NS)
        top = client.db.current_rv()
        wait_for(lambda: hub.cursor >= top, "the informers to see the Jobs")
        job_keys = [(NS, name) for name in names]
        before = len(transactions)
        outcomes = controller.reconcile_many(job_keys)
        assert len(transactions) - before == 1
        assert all(not isinstance(o, Exception) for o in outcomes.values()), outcomes
        expected = {}
        for key in job_keys:
            pods = client.list(registry.POD, NS, label_selector=f"job-name={key[1]}").items
            assert len(pods) == 1
            assert client.get(registry.JOB, NS, key[1])["status"].get("active") == 1
            expected[key] = int(pods[0]["metadata"]["resourceVersion"])
        # Each Job waits for its own last write (its pod), not for the batch's last (nothing
        # synced the Jobs since: the test's enqueue drops keys).
        with controller._lock:
            waits = {key: controller._expected.get(key) for key in job_keys}
        assert waits == expected
        assert len(set(expected.values())) == len(job_keys)
        # Once the caches hold a Job's writes, its next sync plans from them and writes nothing.
        last = client.db.current_rv()
        wait_for(lambda: hub.cursor >= last, "the informers to see the batch")
        again = controller.reconcile_many(job_keys)
        assert all(not isinstance(o, Exception) for o in again.values()), again
        for key in job_keys:
            assert (
                len(client.list(registry.POD, NS, label_selector=f"job-name={key[1]}").items) == 1
            )
    finally:
        hub.stop()
