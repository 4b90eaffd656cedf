"""Bulk creates (``Database.create_many``, ``Client.create_many``) on SQLite and PostgreSQL:
one transaction, a resourceVersion and a change-log row for each object in list order (no
gaps), a taken name anywhere in the list left out alone, the fallback when a name is taken
between the read and the insert, and nothing at all from a fenced-out leader."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import event

from berth.platform.errors import AlreadyExists, Invalid
from berth.platform.resources import registry
from berth.platform.resources.meta import utcnow
from berth.platform.store import bulk
from berth.platform.store.codec import Codec
from berth.platform.store.db import Database
from berth.platform.store.feed import ChangeFeed
from berth.platform.store.lease import Fence, Fenced, FencedDatabase, LeaseStore


@pytest.fixture
def db(database_url):
    database = Database(database_url, Codec(Fernet.generate_key()), window=1000)
    database.migrate()
    yield database
    database.close()


def obj(name, **labels):
    return {
        "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}", "labels": labels}
    }


def rv_of(o) -> int:
    return int(o["metadata"]["resourceVersion"])


class Commits:
    def __init__(self, engine):
        self.engine, self.count = engine, 0
        event.listen(engine, "commit", self._commit)

    def _commit(self, conn):
        self.count += 1

    def close(self):
        event.remove(self.engine, "commit", self._commit)


def test_objects_are_written_in_one_transaction_with_consecutive_versions_in_order(db):
    announced = []
    db.on_commit.append(announced.append)
    start = db.current_rv()
    commits = Commits(db.engine)
    try:
        made = db.create_many("pods", [obj(n, app="web") for n in ("c", "a", "b")])
    finally:
        commits.close()
    assert commits.count == 1
    assert [rv_of(o) for o in made] == [start + 1, start + 2, start + 3]
    assert announced == [start + 1, start + 2, start + 3]  # after the commit, in order
    assert [(c.name, c.type, c.rv) for c in db.changes_since(start)] == [
        ("c", "ADDED", start + 1),
        ("a", "ADDED", start + 2),
        ("b", "ADDED", start + 3),
    ]
    assert db.get("pods", "default", "a") == made[1]
    labelled = db.list("pods", "default", label_terms=[("app", ("web",))]).items
    assert [o["metadata"]["name"] for o in labelled] == ["a", "b", "c"]


def test_a_watch_sees_each_object_in_order(db):
    feed = ChangeFeed(db)
    start = feed.last_rv
    db.create_many("pods", [obj(f"p{i}") for i in range(5)])
    feed.refresh()
    changes = feed.since(start)
    assert [(c.name, c.type) for c in changes] == [(f"p{i}", "ADDED") for i in range(5)]
    assert [c.rv for c in changes] == list(range(start + 1, start + 6))


def test_a_taken_name_in_the_middle_is_left_out_alone(db):
    before = db.create("pods", obj("b"))
    start = db.current_rv()
    made = db.create_many("pods", [obj("a"), obj("b"), obj("c"), obj("a")])
    assert isinstance(made[1], AlreadyExists) and isinstance(made[3], AlreadyExists)
    assert [rv_of(made[0]), rv_of(made[2])] == [start + 1, start + 2]  # no gap for b
    assert db.current_rv() == start + 2
    assert db.get("pods", "default", "b") == before  # untouched
    assert [c.name for c in db.changes_since(start)] == ["a", "c"]


def test_a_name_taken_after_the_read_falls_back_to_one_savepoint_each(db, monkeypatch):
    db.create("pods", obj("b"))
    start = db.current_rv()
    # As if another writer took "b" between the read of taken names and the insert.
    monkeypatch.setattr(bulk, "taken_keys", lambda conn, resource, objs: set())
    made = db.create_many("pods", [obj("a"), obj("b"), obj("c")])
    assert isinstance(made[1], AlreadyExists)
    assert [rv_of(made[0]), rv_of(made[2])] == [start + 1, start + 2]
    assert [(c.name, c.rv) for c in db.changes_since(start)] == [("a", start + 1), ("c", start + 2)]


def test_inside_a_batch_the_objects_commit_with_it(db):
    start = db.current_rv()
    with pytest.raises(RuntimeError):
        with db.batch():
            db.create_many("pods", [obj("a"), obj("b")])
            raise RuntimeError("the caller failed")
    assert db.current_rv() == start and db.get("pods", "default", "a") is None
    with db.batch():
        db.create_many("pods", [obj("a")])
        db.create("pods", obj("z"))
    assert [(c.name, c.rv) for c in db.changes_since(start)] == [("a", start + 1), ("z", start + 2)]


def test_a_fenced_out_leader_writes_nothing(db):
    leases = LeaseStore(db)
    first = leases.create("l", "old", 60.0, utcnow())
    assert first is not None
    fenced = FencedDatabase(db, Fence("l", "old", first.token))
    assert rv_of(fenced.create_many("pods", [obj("a")])[0]) == db.current_rv()
    assert leases.take(leases.read("l"), "new", 60.0, utcnow()) is not None
    start = db.current_rv()
    with pytest.raises(Fenced):
        fenced.create_many("pods", [obj("b"), obj("c")])
    assert db.current_rv() == start and db.get("pods", "default", "b") is None


def job(name: str) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "c", "image": "busybox"}],
                }
            }
        },
    }


def test_the_client_refuses_each_object_alone(client):
    client.create(registry.JOB, job("b"))
    bad = job("c")
    bad["spec"]["template"]["spec"]["containers"] = []
    made = client.create_many(registry.JOB, [job("a"), job("b"), bad, job("d")])
    assert isinstance(made[1], AlreadyExists) and isinstance(made[2], Invalid)
    assert [made[i]["metadata"]["name"] for i in (0, 3)] == ["a", "d"]  # type: ignore[index]
    assert made[0]["metadata"]["uid"] != made[3]["metadata"]["uid"]  # type: ignore[index]
    assert made[0]["kind"] == "Job" and made[0]["spec"]["completions"] == 1  # type: ignore[index]
    assert client.get(registry.JOB, "default", "a") == made[0]


def test_prepared_objects_are_written_as_prepared_with_the_time_of_the_write(client):
    ready = client.prepare_create(registry.JOB, job("a"))
    assert "resourceVersion" not in ready["metadata"]
    assert client.try_get(registry.JOB, "default", "a") is None  # nothing written yet
    ready["metadata"]["creationTimestamp"] = "2000-01-01T00:00:00Z"
    [made] = client.create_many(registry.JOB, [ready], prepared=True)
    assert isinstance(made, dict)
    assert made["metadata"]["uid"] == ready["metadata"]["uid"]
    assert made["metadata"]["creationTimestamp"] > "2000-01-01T00:00:00Z"
    assert client.get(registry.JOB, "default", "a") == made
    # The namespace is checked at the write.
    elsewhere = client.prepare_create(
        registry.JOB, {**job("x"), "metadata": {"name": "x", "namespace": "gone"}}
    )
    [refused] = client.create_many(registry.JOB, [elsewhere], prepared=True)
    assert not isinstance(refused, dict)
