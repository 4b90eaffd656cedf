"""``bulk``'s inserts leave no statement running on the connection when they return.

A multi-row INSERT ... RETURNING of one row is sent as a plain statement, whose rows SQLite
hands out one step at a time: until they are all read (or the cursor is dropped) the statement
is still in progress, and SQLite refuses to release a savepoint around it ("cannot release
savepoint - SQL statements in progress"). The result was dropped at once unless something held
the frame that held it: under ``bench_e2e --profile`` the sampling profiler does
(``sys._current_frames``), and ``create_many`` of one object failed. Here the caller keeps what
``_insert`` returned, as a held frame would, and releases the savepoint."""

from __future__ import annotations

import pytest

from berth.platform.store import bulk
from berth.platform.store.tables import CHANGES, LABELS, OBJECTS


def one_object(name: str) -> dict:
    return {
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": f"uid-{name}",
            "labels": {"app": "x"},
        }
    }


@pytest.mark.parametrize("table", [OBJECTS.name, CHANGES.name])
def test_a_one_row_insert_is_read_whole_before_the_savepoint_is_released(db, table):
    row = {
        OBJECTS.name: {
            "resource": "pods",
            "namespace": "default",
            "name": "p",
            "uid": "u",
            "rv": 1,
            "node_name": None,
            "phase": None,
            "data": "{}",
        },
        CHANGES.name: {
            "rv": 1,
            "resource": "pods",
            "namespace": "default",
            "name": "p",
            "type": "ADDED",
            "data": "{}",
        },
    }[table]
    with db.engine.connect() as conn, conn.begin():
        savepoint = conn.begin_nested()
        returned = bulk._insert(conn, table, [row])
        savepoint.commit()  # RELEASE: refused while the INSERT ... RETURNING is in progress
        assert len(list(returned)) == 1


def test_create_many_of_one_labelled_object_while_its_results_are_held(db):
    """The whole path: one object with one label (each insert one row), in a batch."""
    with db.batch():
        conn = db._local.batch[0]
        savepoint = conn.begin_nested()
        rvs = bulk.insert_all(conn, db.codec, "pods", [one_object("a")])
        held = bulk._insert(
            conn,
            LABELS.name,
            [{"object_id": 1, "resource": "pods", "key": "other", "value": "y"}],
        )
        savepoint.commit()
    assert rvs == [db.current_rv()]
    assert len(list(held)) == 1
