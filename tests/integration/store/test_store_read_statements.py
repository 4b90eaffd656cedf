"""A read of one statement sends that statement alone: no BEGIN before it (SQLite: the
statement is its own transaction; PostgreSQL: autocommit), and it still sees every commit
made before it, also while another connection holds a write transaction open."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from berth.platform.store.db import Database


def obj(name: str) -> dict:
    return {"metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"}}


class Sent:
    """The statements SQLite runs (its trace callback: whoever sends them, SQLAlchemy or the
    driver's cursor), on every connection checked out from now on."""

    def __init__(self, db: Database):
        self.statements: list[str] = []
        event.listen(db.engine, "checkout", self._trace)

    def _trace(self, dbapi_conn, _record, _proxy) -> None:
        dbapi_conn.set_trace_callback(lambda sql: self.statements.append(sql.split()[0].upper()))


def test_a_sqlite_get_runs_one_select_and_nothing_else(db):
    if not db.dialect.is_sqlite:
        pytest.skip("the trace of the statements run is SQLite's")
    db.create("pods", obj("a"))
    sent = Sent(db)
    assert db.get("pods", "default", "a") is not None
    assert db.current_rv() == 1
    assert sent.statements == ["SELECT", "SELECT"]


def test_a_read_sees_what_was_committed_while_a_write_is_open(db):
    db.create("pods", obj("a"))
    with db.batch():
        db.create("pods", obj("b"))
        # Another connection: the batch's write is not committed yet.
        assert db.get("pods", "default", "b") is None
        assert db.get("pods", "default", "a") is not None
    assert db.get("pods", "default", "b") is not None
    assert [c.name for c in db.changes_since(0)] == ["a", "b"]


def test_a_sqlite_write_still_begins_its_transaction(db):
    if not db.dialect.is_sqlite:
        pytest.skip("the trace of the statements run is SQLite's")
    sent = Sent(db)
    db.create("pods", obj("a"))
    assert sent.statements[0] == "BEGIN"
    assert sent.statements[-1] == "COMMIT"


def test_get_by_uid_finds_the_object_and_its_resource(db):
    db.create("pods", obj("a"))
    found = db.get_by_uid("uid-a")
    assert found is not None
    assert found[0] == "pods"
    assert found[1]["metadata"]["name"] == "a"
    assert db.get_by_uid("uid-b") is None
