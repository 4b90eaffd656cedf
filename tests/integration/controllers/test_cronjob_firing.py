"""The fast path of due runs on SQLite and PostgreSQL: Jobs made in group commits (one
transaction and one lease read per chunk), a Job that exists already or is refused alone
leaves the others standing, a deposed leader's chunk writes nothing, and ``fire_due`` makes
each due run's Job exactly once from the informer's view."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import event

from berth.platform.cache.informers import InformerHub
from berth.platform.controllers.cronjob import controller as controller_module
from berth.platform.controllers.cronjob import firing
from berth.platform.controllers.cronjob.controller import CronJobController
from berth.platform.controllers.cronjob.jobs import build_job, job_name
from berth.platform.resources import registry
from berth.platform.resources.meta import utcnow
from berth.platform.runtime import open_platform
from berth.platform.store.client import Client
from berth.platform.store.events import EventRecorder
from berth.platform.store.lease import Fence, Fenced, FencedDatabase, LeaseStore
from berth.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

NS = "default"
LEASE = "test-cron-firing"


@pytest.fixture
def platform(database_url, tmp_path):
    plat = open_platform(Settings(data_dir=tmp_path / "data", database_url=database_url))
    yield plat
    plat.close()


def cronjob(name: str, schedule: str = "* * * * *") -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "schedule": schedule,
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "c", "image": "busybox", "command": ["true"]}],
                        }
                    }
                }
            },
        },
    }


def term(platform, holder: str = "a") -> Fence:
    leases = LeaseStore(platform.db)
    record = leases.read(LEASE) or leases.create(LEASE, holder, 60.0, utcnow())
    return Fence(LEASE, record.holder, record.token)


def depose(platform) -> None:
    leases = LeaseStore(platform.db)
    assert leases.take(leases.read(LEASE), "b", 60.0, utcnow()) is not None


class Commits:
    """Commits made by this thread's connections to the store, and the lease reads in them."""

    def __init__(self, engine):
        self.thread = threading.get_ident()
        self.commits = self.lease_reads = 0
        self.engine = engine
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "before_cursor_execute", self._execute)

    def _commit(self, conn):
        if threading.get_ident() == self.thread:
            self.commits += 1

    def _execute(self, conn, cursor, statement, *args):
        if (
            threading.get_ident() == self.thread
            and statement.lstrip().upper().startswith("SELECT")
            and "leases" in statement
        ):
            self.lease_reads += 1

    def close(self):
        event.remove(self.engine, "commit", self._commit)
        event.remove(self.engine, "before_cursor_execute", self._execute)


def due_jobs(platform, count: int, prefix: str = "cj") -> list[dict]:
    moment = utcnow().replace(second=0, microsecond=0)
    return [
        build_job(platform.client.create(registry.CRON_JOB, cronjob(f"{prefix}-{i}")), moment)
        for i in range(count)
    ]


def stored_jobs(platform) -> set[str]:
    return {j["metadata"]["name"] for j in platform.client.list(registry.JOB, NS).items}


def test_jobs_are_made_in_one_transaction_per_chunk_with_one_lease_read(platform, monkeypatch):
    client = Client(FencedDatabase(platform.db, term(platform)))
    jobs = due_jobs(platform, 7)
    namespace_reads, get = [], platform.db.get
    monkeypatch.setattr(
        platform.db,
        "get",
        lambda resource, *args: (
            namespace_reads.append(args) if resource == "namespaces" else None,
            get(resource, *args),
        )[1],
    )
    counter = Commits(platform.db.engine)
    try:
        results = list(firing.create_jobs(client, jobs, chunk=3))
    finally:
        counter.close()
    assert len(namespace_reads) == 3  # the namespace is found live once per chunk
    assert [r.job["metadata"]["name"] for r in results] == [j["metadata"]["name"] for j in jobs]
    assert counter.commits == 3  # 3 + 3 + 1
    assert counter.lease_reads == 3  # once per chunk, not once per Job
    assert stored_jobs(platform) == {j["metadata"]["name"] for j in jobs}
    versions = [int(r.job["metadata"]["resourceVersion"]) for r in results]
    assert versions == sorted(set(versions))  # each its own resourceVersion, in order


def test_a_chunk_is_reported_once_committed_before_the_next_is_written(platform):
    client = Client(FencedDatabase(platform.db, term(platform)))
    jobs = due_jobs(platform, 4)
    names = [j["metadata"]["name"] for j in jobs]
    results = firing.create_jobs(client, jobs, chunk=2)
    assert next(results).job["metadata"]["name"] == names[0]
    assert stored_jobs(platform) == set(names[:2])  # committed: others see them
    assert [r.job["metadata"]["name"] for r in results] == names[1:]
    assert stored_jobs(platform) == set(names)


def test_a_job_made_before_or_refused_alone_leaves_the_others_standing(platform):
    client = Client(FencedDatabase(platform.db, term(platform)))
    jobs = due_jobs(platform, 5)
    platform.client.create(registry.JOB, jobs[1])  # a run made before
    jobs[3]["spec"]["template"]["spec"]["containers"] = []  # invalid: refused alone
    results = list(firing.create_jobs(client, jobs, chunk=10))
    assert results[1].exists and results[1].job is None
    assert results[3].error is not None and results[3].job is None
    assert all(results[i].job is not None for i in (0, 2, 4))
    names = [j["metadata"]["name"] for j in jobs]
    assert stored_jobs(platform) == {names[i] for i in (0, 1, 2, 4)}


def test_a_deposed_leaders_chunk_writes_nothing(platform):
    client = Client(FencedDatabase(platform.db, term(platform)))
    jobs = due_jobs(platform, 4)
    depose(platform)
    with pytest.raises(Fenced):
        list(firing.create_jobs(client, jobs, chunk=10))
    assert stored_jobs(platform) == set()
    # A batch entered by a deposed leader refuses even writes that are not fenced one by one.
    with pytest.raises(Fenced):
        with client.batch():
            platform.client.create(registry.JOB, jobs[0])
    assert stored_jobs(platform) == set()


class Harness:
    """The CronJob controller wired to informers, its queue a list (no workers): what
    ``fire_due`` does alone. ``early`` lists the keys queued while their Jobs were still
    being made."""

    def __init__(self, platform, fence: Fence, clock):
        self.queued: list = []
        self.early: list = []
        self.made: list = []
        self.hub = InformerHub(platform.client, platform.feed)
        self.controller = CronJobController(
            Client(FencedDatabase(platform.db, fence)),
            EventRecorder(platform.client, "cron"),
            clock=clock,
            observers=[lambda cj, d, made: made and self.made.append(made)],
        )
        self.controller.setup(self.hub, self.enqueue)
        self.hub.start()
        assert self.hub.synced.wait(30), "informers never synced"

    def enqueue(self, key) -> None:
        if key in self.controller._firing:
            self.early.append(key)
        self.queued.append(key)

    def wait_for(self, informer, count: int) -> None:
        deadline = utcnow() + timedelta(seconds=30)
        while len(informer.list(NS)) < count:
            assert utcnow() < deadline, f"informer saw {len(informer.list(NS))} of {count}"
            threading.Event().wait(0.05)

    def stop(self):
        self.hub.stop()


def test_fire_due_makes_each_run_once_in_group_commits(platform, monkeypatch):
    monkeypatch.setattr(firing, "CHUNK", 8)
    names = [f"cj-{i}" for i in range(30)]
    for name in names:
        platform.client.create(registry.CRON_JOB, cronjob(name))
    due = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=2)
    harness = Harness(platform, term(platform), clock=lambda: due + timedelta(seconds=1))
    try:
        harness.wait_for(harness.controller.cronjobs, len(names))
        keys = [(NS, name) for name in names]
        counter, start = Commits(platform.db.engine), len(harness.queued)
        try:
            harness.controller.fire_due(keys)
        finally:
            counter.close()
        expected = {job_name(name, due) for name in names}
        assert stored_jobs(platform) == expected
        assert sorted(harness.made) == sorted(expected)
        assert counter.commits <= -(-len(names) // firing.CHUNK)
        assert set(harness.queued[start:]) == set(keys)  # each goes on to its second pass
        assert harness.early == []  # ... once all were made: no status write competes
        # Woken again, whether or not the informer saw the Jobs yet: no new ones.
        harness.controller.fire_due(keys)
        harness.wait_for(harness.controller.jobs, len(names))
        harness.controller.fire_due(keys)
        assert stored_jobs(platform) == expected and len(harness.made) == len(names)
        # The second pass records SuccessfulCreate and lastScheduleTime from the store.
        harness.controller.reconcile(keys[0])
        status = platform.client.get(registry.CRON_JOB, NS, names[0])["status"]
        assert status["lastScheduleTime"] == due.strftime("%Y-%m-%dT%H:%M:%SZ")
        reasons = [
            e["reason"]
            for e in platform.client.list(registry.EVENT, NS).items
            if e["involvedObject"]["name"] == names[0]
        ]
        assert reasons.count("SuccessfulCreate") == 1
    finally:
        harness.stop()


def test_fire_due_of_a_deposed_leader_makes_nothing_and_leaves_the_keys_queued(platform):
    names = [f"cj-{i}" for i in range(5)]
    for name in names:
        platform.client.create(registry.CRON_JOB, cronjob(name))
    due = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=2)
    harness = Harness(platform, term(platform), clock=lambda: due + timedelta(seconds=1))
    try:
        harness.wait_for(harness.controller.cronjobs, len(names))
        depose(platform)
        keys, start = [(NS, name) for name in names], len(harness.queued)
        harness.controller.fire_due(keys)
        assert stored_jobs(platform) == set() and harness.made == []
        assert set(harness.queued[start:]) == set(keys)  # their reconciles retry
        with pytest.raises(Fenced):
            harness.controller.reconcile(keys[0])
        assert stored_jobs(platform) == set()
    finally:
        harness.stop()


def test_reconcile_leaves_a_firing_key_to_fire_due_and_looks_again_after_the_trigger(platform):
    platform.client.create(registry.CRON_JOB, cronjob("cj-0"))
    due = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=2)
    harness = Harness(platform, term(platform), clock=lambda: due + timedelta(seconds=1))
    key = (NS, "cj-0")
    try:
        harness.wait_for(harness.controller.cronjobs, 1)
        harness.controller._firing.add(key)
        assert harness.controller.reconcile(key) is None
        assert stored_jobs(platform) == set()
        harness.controller._firing.clear()
        assert harness.controller.reconcile(key) == 0.0  # first pass: the Job
        assert stored_jobs(platform) == {job_name("cj-0", due)}
        # Second pass: the next look is after the next run's trigger, not at it.
        assert harness.controller.reconcile(key) == pytest.approx(
            59.001 + controller_module.TRIGGER_GRACE_S
        )
    finally:
        harness.stop()


def test_jobs_prepared_ahead_are_only_written_at_the_due_instant(platform, monkeypatch):
    names = [f"cj-{i}" for i in range(6)]
    for name in names:
        platform.client.create(registry.CRON_JOB, cronjob(name))
    due = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=2)
    harness = Harness(platform, term(platform), clock=lambda: due + timedelta(seconds=1))
    try:
        harness.wait_for(harness.controller.cronjobs, len(names))
        keys = [(NS, name) for name in names]
        harness.controller.prepare_due(keys, due + timedelta(seconds=1))
        assert stored_jobs(platform) == set()  # nothing written ahead
        ready = {
            key: entry[2]["metadata"]["uid"] for key, entry in harness.controller._ready.items()
        }
        assert set(ready) == set(keys)
        # One CronJob changes after its Job was prepared: its Job is built again at the instant.
        changed = platform.client.get(registry.CRON_JOB, NS, names[0])
        changed["spec"]["jobTemplate"].setdefault("metadata", {})["labels"] = {"v": "2"}
        platform.client.update(registry.CRON_JOB, changed)
        deadline = utcnow() + timedelta(seconds=30)
        while (
            harness.controller.cronjobs.get(NS, names[0])["metadata"].get("resourceVersion")
            != (platform.client.get(registry.CRON_JOB, NS, names[0])["metadata"]["resourceVersion"])
        ):
            assert utcnow() < deadline, "the informer never saw the change"
            threading.Event().wait(0.05)
        built = []
        prepare = harness.controller.client.prepare_create
        monkeypatch.setattr(
            harness.controller.client,
            "prepare_create",
            lambda rt, obj: (built.append(obj["metadata"]["name"]), prepare(rt, obj))[1],
        )
        harness.controller.fire_due(keys)
        assert built == [job_name(names[0], due)]  # only the changed one was built now
        jobs = {j["metadata"]["name"]: j for j in platform.client.list(registry.JOB, NS).items}
        assert set(jobs) == {job_name(name, due) for name in names}
        for key in keys[1:]:
            assert jobs[job_name(key[1], due)]["metadata"]["uid"] == ready[key]
        assert jobs[job_name(names[0], due)]["metadata"]["labels"]["v"] == "2"
        assert harness.controller._ready == {}
    finally:
        harness.stop()


def test_a_prepare_call_that_is_late_leaves_the_jobs_to_the_instant(platform):
    platform.client.create(registry.CRON_JOB, cronjob("cj-0"))
    due = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=2)
    harness = Harness(platform, term(platform), clock=lambda: due + timedelta(seconds=1))
    try:
        harness.wait_for(harness.controller.cronjobs, 1)
        harness.controller.prepare_due([(NS, "cj-0")], due)  # the instant has passed
        assert harness.controller._ready == {}
        harness.controller.fire_due([(NS, "cj-0")])
        assert stored_jobs(platform) == {job_name("cj-0", due)}
    finally:
        harness.stop()
