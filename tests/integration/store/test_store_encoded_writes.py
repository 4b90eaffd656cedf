"""Creates and updates encoded before their transaction (``encoded``), and on PostgreSQL
written as one statement (``pg_writes``): the stored JSON, the change log's copy and the labels
are what the object returned says, on both stores; a taken name, a stale or missing object and
a sealed Secret behave as before."""

from __future__ import annotations

import copy

import orjson
import pytest
from sqlalchemy import select

from berth.platform.errors import AlreadyExists, Conflict, NotFound
from berth.platform.store.encoded import MARK, encode_ahead
from berth.platform.store.tables import CHANGES, LABELS, OBJECTS


def config_map(name: str, **labels) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}", "labels": labels},
        # What looks like a version elsewhere in the object is left alone.
        "data": {"resourceVersion": "7", "x": '"resourceVersion":"7"'},
    }


def stored_rows(db, resource: str, name: str) -> tuple[str, str, int]:
    with db.reading() as conn:
        data, rv = conn.execute(
            select(OBJECTS.c.data, OBJECTS.c.rv).where(
                OBJECTS.c.resource == resource, OBJECTS.c.name == name
            )
        ).one()
        (change,) = conn.execute(select(CHANGES.c.data).where(CHANGES.c.rv == rv)).one()
    return data, change, rv


def test_stored_json_is_the_returned_object_at_its_version(db):
    made = db.create("configmaps", config_map("a", app="web", tier="front"))
    data, change, rv = stored_rows(db, "configmaps", "a")
    assert made["metadata"]["resourceVersion"] == str(rv)
    assert data == change == orjson.dumps(made).decode()
    assert MARK not in data
    assert made["data"] == {"resourceVersion": "7", "x": '"resourceVersion":"7"'}
    with db.reading() as conn:
        labels = conn.execute(
            select(LABELS.c.key, LABELS.c.value).where(LABELS.c.resource == "configmaps")
        ).all()
    assert sorted(labels) == [("app", "web"), ("tier", "front")]
    assert db.get("configmaps", "default", "a") == made


def test_versions_follow_each_other_and_the_change_log_has_each(db):
    made = [db.create("configmaps", config_map(f"c{i}")) for i in range(3)]
    rvs = [int(m["metadata"]["resourceVersion"]) for m in made]
    assert rvs == list(range(rvs[0], rvs[0] + 3))
    assert [c.rv for c in db.changes_since(rvs[0] - 1)] == rvs
    assert db.current_rv() == rvs[-1]


def test_a_taken_name_writes_nothing(db):
    db.create("configmaps", config_map("a"))
    current = db.current_rv()
    with pytest.raises(AlreadyExists):
        db.create("configmaps", config_map("a"))
    assert db.current_rv() == current
    assert db.changes_since(current) == []


def test_inside_a_batch_each_create_is_undone_alone(db):
    db.create("configmaps", config_map("a"))
    with db.batch():
        with pytest.raises(AlreadyExists):
            db.create("configmaps", config_map("a"))
        made = db.create("configmaps", config_map("b", app="x"))
    assert db.get("configmaps", "default", "b") == made
    assert db.list("configmaps", label_terms=[("app", ("x",))]).items == [made]


def test_a_sealed_secret_is_encoded_in_the_write(db):
    secret = {
        "metadata": {"name": "s", "namespace": "default", "uid": "uid-s"},
        "data": {"password": "aHVudGVyMg=="},
    }
    assert encode_ahead(db.codec, "secrets", secret) is None
    made = db.create("secrets", secret)
    data, change, _ = stored_rows(db, "secrets", "s")
    assert "aHVudGVyMg" not in data and "aHVudGVyMg" not in change
    assert db.get("secrets", "default", "s") == made


def test_encoding_ahead_leaves_the_object_as_it_was(db):
    obj = config_map("a")
    assert "resourceVersion" not in obj["metadata"]
    ahead = encode_ahead(db.codec, "configmaps", obj)
    assert ahead is not None
    assert "resourceVersion" not in obj["metadata"]
    obj["metadata"]["resourceVersion"] = "12"
    assert ahead.at(12) == orjson.dumps(obj).decode()


def labels_of(db, resource: str) -> list[tuple[str, str]]:
    with db.reading() as conn:
        return sorted(
            conn.execute(
                select(LABELS.c.key, LABELS.c.value).where(LABELS.c.resource == resource)
            ).all()
        )


@pytest.mark.parametrize("at_version", [True, False])
def test_an_update_stores_the_returned_object_and_its_new_labels(db, at_version):
    made = db.create("configmaps", config_map("a", app="web"))
    new = {**made, "metadata": {**made["metadata"], "labels": {"app": "api", "x": "1"}}}
    new["data"] = {"k": "v"}
    expected = int(made["metadata"]["resourceVersion"]) if at_version else None
    stored = db.update("configmaps", new, expected)
    data, change, rv = stored_rows(db, "configmaps", "a")
    assert stored["metadata"]["resourceVersion"] == str(rv)
    assert rv == int(made["metadata"]["resourceVersion"]) + 1
    assert data == change == orjson.dumps(stored).decode()
    assert labels_of(db, "configmaps") == [("app", "api"), ("x", "1")]
    assert [(c.type, c.rv) for c in db.changes_since(rv - 1)] == [("MODIFIED", rv)]


def test_an_update_without_relabel_keeps_the_label_rows(db):
    made = db.create("configmaps", config_map("a", app="web"))
    new = {**made, "data": {"k": "v"}}
    db.update("configmaps", new, int(made["metadata"]["resourceVersion"]), relabel=False)
    assert labels_of(db, "configmaps") == [("app", "web")]
    assert db.get("configmaps", "default", "a")["data"] == {"k": "v"}


def changed(obj: dict, value: str) -> dict:
    """A copy of ``obj`` with other data (a write sets the copy's version, not obj's)."""
    out = copy.deepcopy(obj)
    out["data"] = {"k": value}
    return out


def test_a_stale_or_missing_update_writes_nothing(db):
    made = db.create("configmaps", config_map("a", app="web"))
    rv = int(made["metadata"]["resourceVersion"])
    current = db.current_rv()
    with pytest.raises(Conflict):
        db.update("configmaps", changed(made, "stale"), rv - 1)
    with pytest.raises(NotFound):
        db.update("configmaps", config_map("b"), None)
    assert db.current_rv() == current
    assert db.changes_since(current) == []
    assert db.get("configmaps", "default", "a") == made
    assert labels_of(db, "configmaps") == [("app", "web")]
    with db.batch():
        with pytest.raises(Conflict):
            db.update("configmaps", changed(made, "stale"), rv - 1)
        stored = db.update("configmaps", changed(made, "fresh"), rv)
    assert db.get("configmaps", "default", "a") == stored
    assert int(stored["metadata"]["resourceVersion"]) == current + 1
