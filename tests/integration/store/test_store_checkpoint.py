"""SQLite's WAL checkpoints run on a thread of their own, not in a writer's commit: the write
connections checkpoint by themselves only at the backstop, and the thread copies the WAL into
the database file soon after commits (long before the 1,000 pages at which SQLite's own
automatic checkpoint would)."""

from __future__ import annotations

import os

import pytest
from cryptography.fernet import Fernet

from berth.platform.store.checkpoint import BACKSTOP_PAGES
from berth.platform.store.codec import Codec
from berth.platform.store.db import Database
from tests.support import wait_for


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'berth.db'}", Codec(Fernet.generate_key()))
    database.migrate()
    yield database
    database.close()


def config_map(i: int) -> dict:
    return {
        "metadata": {"name": f"cm-{i}", "namespace": "default", "uid": f"uid-{i}"},
        "data": {"k": "v" * 2000},
    }


def test_write_connections_leave_checkpoints_to_the_thread(db):
    with db.transaction() as conn:
        (pages,) = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").one()
    assert pages == BACKSTOP_PAGES


def test_the_wal_is_copied_into_the_database_file_soon_after_commits(db, tmp_path):
    path = tmp_path / "berth.db"
    before = os.path.getsize(path)
    for i in range(40):  # some 200 WAL pages: below SQLite's own threshold of 1,000
        db.create("configmaps", config_map(i))
    checkpointer = db.dialect._checkpointer
    assert checkpointer is not None
    wait_for(lambda: checkpointer.runs > 0, timeout=10, what="a checkpoint")
    wait_for(
        lambda: os.path.getsize(path) > before + 40 * 2000,
        timeout=10,
        what="the objects in the database file",
    )
    assert db.get("configmaps", "default", "cm-39")["data"]["k"] == "v" * 2000


def test_close_stops_the_thread(db):
    db.create("configmaps", config_map(0))
    checkpointer = db.dialect._checkpointer
    assert checkpointer is not None
    thread = checkpointer._thread
    assert thread is not None
    db.close()
    assert not thread.is_alive()
