"""Group commit (``Database.batch``) on SQLite and PostgreSQL: the writes inside commit
together, a failed write is undone alone, an error leaving the block undoes them all, and the
change log and commit hooks see every write in resourceVersion order."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from berth.platform.errors import AlreadyExists, Conflict
from berth.platform.store.codec import Codec
from berth.platform.store.db import Database


@pytest.fixture
def db(database_url):
    database = Database(database_url, Codec(Fernet.generate_key()), window=1000)
    database.migrate()
    yield database
    database.close()


def obj(name, **extra):
    return {"metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"}, **extra}


def rv_of(o) -> int:
    return int(o["metadata"]["resourceVersion"])


def test_writes_in_a_batch_commit_together_and_are_announced_after(db):
    a = db.create("pods", obj("a"))
    b = db.create("pods", obj("b"))
    announced = []
    db.on_commit.append(announced.append)
    start = db.current_rv()
    with db.batch():
        a2 = db.update("pods", obj("a", status={"phase": "Running"}), rv_of(a))
        b2 = db.update("pods", obj("b", status={"phase": "Succeeded"}), rv_of(b))
        assert announced == []  # nothing committed yet
        assert (
            db.get("pods", "default", "a")["metadata"]["resourceVersion"]
            == a["metadata"]["resourceVersion"]
        )  # others still read the committed state
    assert announced == [rv_of(a2), rv_of(b2)] == [start + 1, start + 2]
    changes = db.changes_since(start)
    assert [(c.name, c.type, c.rv) for c in changes] == [
        ("a", "MODIFIED", start + 1),
        ("b", "MODIFIED", start + 2),
    ]
    assert db.get("pods", "default", "b")["status"] == {"phase": "Succeeded"}


def test_a_failed_write_is_undone_alone(db):
    a = db.create("pods", obj("a"))
    db.create("pods", obj("b"))
    start = db.current_rv()
    with db.batch():
        with pytest.raises(Conflict):
            db.update("pods", obj("b", status={"phase": "Failed"}), rv_of(a))  # stale rv
        with pytest.raises(AlreadyExists):
            db.create("pods", obj("a"))
        db.update("pods", obj("a", status={"phase": "Running"}), rv_of(a))
    # The failed writes took no resourceVersion: the one that stood is the next.
    assert [(c.name, c.rv) for c in db.changes_since(start)] == [("a", start + 1)]
    assert db.current_rv() == start + 1
    assert "status" not in db.get("pods", "default", "b")


def test_an_error_leaving_the_batch_undoes_every_write(db):
    a = db.create("pods", obj("a"))
    announced = []
    db.on_commit.append(announced.append)
    start = db.current_rv()
    with pytest.raises(RuntimeError):
        with db.batch():
            db.update("pods", obj("a", status={"phase": "Running"}), rv_of(a))
            db.create("pods", obj("c"))
            raise RuntimeError("the caller failed")
    assert announced == []
    assert db.current_rv() == start
    assert db.get("pods", "default", "c") is None
    assert db.changes_since(start) == []
    # And the store takes writes again afterwards, outside any batch.
    db.create("pods", obj("d"))
    assert announced == [start + 1]
