"""The raw store on SQLite and PostgreSQL: CAS writes, the label index, the change log."""

from __future__ import annotations

import threading

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from berth.platform.errors import AlreadyExists, Conflict, Gone, NotFound
from berth.platform.store.codec import Codec
from berth.platform.store.db import Database


@pytest.fixture
def db(database_url):
    database = Database(database_url, Codec(Fernet.generate_key()), window=50)
    database.migrate()
    yield database
    database.close()


def obj(name, ns="default", labels=None, uid=None, **extra):
    md = {"name": name, "namespace": ns, "uid": uid or f"uid-{ns}-{name}"}
    if labels:
        md["labels"] = labels
    return {"metadata": md, **extra}


def test_create_assigns_increasing_resource_versions(db):
    a = db.create("jobs.batch", obj("a"))
    b = db.create("jobs.batch", obj("b"))
    assert int(b["metadata"]["resourceVersion"]) == int(a["metadata"]["resourceVersion"]) + 1
    assert (
        db.get("jobs.batch", "default", "a")["metadata"]["resourceVersion"]
        == a["metadata"]["resourceVersion"]
    )


def test_create_twice_is_already_exists(db):
    db.create("jobs.batch", obj("a"))
    with pytest.raises(AlreadyExists):
        db.create("jobs.batch", obj("a", uid="other"))


def test_update_with_stale_resource_version_conflicts(db):
    created = db.create("jobs.batch", obj("a", spec={"x": 1}))
    rv = int(created["metadata"]["resourceVersion"])
    db.update("jobs.batch", obj("a", spec={"x": 2}), rv)
    with pytest.raises(Conflict):
        db.update("jobs.batch", obj("a", spec={"x": 3}), rv)
    assert db.get("jobs.batch", "default", "a")["spec"] == {"x": 2}


def test_update_and_delete_of_missing_object_are_not_found(db):
    with pytest.raises(NotFound):
        db.update("jobs.batch", obj("nope"), None)
    with pytest.raises(NotFound):
        db.delete("jobs.batch", "default", "nope")


def test_delete_returns_object_with_the_deletion_revision(db):
    created = db.create("pods", obj("p"))
    deleted = db.delete("pods", "default", "p")
    assert int(deleted["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    assert db.get("pods", "default", "p") is None
    assert [c.type for c in db.changes_since(0)] == ["ADDED", "DELETED"]


def test_label_terms_narrow_and_predicate_decides(db):
    for i in range(30):
        db.create(
            "jobs.batch",
            obj(f"j{i:02}", labels={"app": "web" if i % 3 else "db", "tier": str(i % 2)}),
        )
    page = db.list("jobs.batch", "default", label_terms=[("app", ("db",))])
    assert [o["metadata"]["name"] for o in page.items] == [f"j{i:02}" for i in range(0, 30, 3)]
    page = db.list("jobs.batch", "default", label_terms=[("app", ("db",)), ("tier", ("1",))])
    assert [o["metadata"]["name"] for o in page.items] == ["j03", "j09", "j15", "j21", "j27"]
    page = db.list(
        "jobs.batch",
        "default",
        label_terms=[("tier", None)],
        predicate=lambda o: o["metadata"]["labels"]["app"] != "db",
    )
    assert len(page.items) == 20


def test_relabel_moves_object_between_selections(db):
    created = db.create("pods", obj("p", labels={"app": "a"}))
    created["metadata"]["labels"] = {"app": "b"}
    db.update("pods", created, int(created["metadata"]["resourceVersion"]))
    assert db.list("pods", label_terms=[("app", ("a",))]).items == []
    assert len(db.list("pods", label_terms=[("app", ("b",))]).items) == 1


def test_pagination_walks_every_item_once(db):
    for ns in ("a", "b"):
        for i in range(7):
            db.create("configmaps", obj(f"cm{i}", ns=ns))
    seen, after = [], None
    while True:
        page = db.list("configmaps", limit=4, start_after=after)
        seen += [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in page.items]
        if page.next_key is None:
            break
        after = page.next_key
    assert len(seen) == 14 and len(set(seen)) == 14
    assert seen == sorted(seen)


def test_indexed_columns_filter_pods_by_node_and_phase(db):
    db.create("pods", obj("a", spec={"nodeName": "n1"}, status={"phase": "Running"}))
    db.create("pods", obj("b", spec={}, status={"phase": "Pending"}))
    assert [o["metadata"]["name"] for o in db.list("pods", node_name="n1").items] == ["a"]
    assert [o["metadata"]["name"] for o in db.list("pods", node_name="").items] == ["b"]
    assert [o["metadata"]["name"] for o in db.list("pods", phase="Pending").items] == ["b"]


def test_changes_replay_in_order_and_expire_after_compaction(db):
    for i in range(120):
        db.create("configmaps", obj(f"c{i}"))
    db.compact()
    current = db.current_rv()
    assert db.compacted_rv() == current - 50
    tail = db.changes_since(current - 10)
    assert [c.rv for c in tail] == list(range(current - 9, current + 1))
    with pytest.raises(Gone):
        db.changes_since(1)
    floor = db.compacted_rv()
    assert [c.rv for c in db.changes_since(floor)] == list(range(floor + 1, current + 1))
    with pytest.raises(Gone):
        db.changes_since(floor - 1)
    assert db.changes_since(current) == []  # nothing new: the floor and no rows


def test_secret_values_are_never_stored_in_plain_text(db):
    db.create(
        "secrets",
        obj("s", data={"password": "c3VwZXJzZWNyZXQ="}, stringData={"token": "plain-token-value"}),
    )
    assert db.get("secrets", "default", "s")["data"]["password"] == "c3VwZXJzZWNyZXQ="
    with db.engine.connect() as conn:
        stored = " ".join(r[0] for r in conn.execute(text("select data from objects")))
        logged = " ".join(r[0] for r in conn.execute(text("select data from changes")))
    for needle in ("c3VwZXJzZWNyZXQ=", "plain-token-value", "password"):
        assert needle not in stored and needle not in logged


def test_concurrent_writers_get_distinct_ordered_revisions(db):
    errors = []

    def writer(prefix):
        try:
            for i in range(25):
                db.create("configmaps", obj(f"{prefix}-{i}"))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rvs = [c.rv for c in db.changes_since(db.compacted_rv(), limit=1000)]
    assert rvs == sorted(rvs) and len(set(rvs)) == len(rvs)
    assert db.current_rv() == 100


@pytest.mark.parametrize("cap", [0, 10_000])
def test_selective_and_walking_label_lists_agree(db, monkeypatch, cap):
    """Starting from the label index (few matches) or walking the keys gives the same pages."""
    monkeypatch.setattr("berth.platform.store.db_reads.SELECTIVE_IDS", cap)
    for ns in ("a", "b"):
        for i in range(12):
            db.create(
                "pods",
                obj(
                    f"p{i:02}",
                    ns=ns,
                    labels={"app": "x" if i % 2 else "y"},
                    spec={"nodeName": "n1" if i % 3 else ""},
                    status={"phase": "Running"},
                ),
            )
    terms = [("app", ("x",))]
    everything = db.list("pods", label_terms=terms).items
    assert [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in everything] == [
        (ns, f"p{i:02}") for ns in ("a", "b") for i in range(1, 12, 2)
    ]
    seen, after = [], None
    while True:
        page = db.list("pods", "b", label_terms=terms, limit=2, start_after=after)
        seen += [o["metadata"]["name"] for o in page.items]
        if page.next_key is None:
            break
        after = page.next_key
    assert seen == ["p01", "p03", "p05", "p07", "p09", "p11"]
    on_node = db.list("pods", "a", label_terms=terms, node_name="n1").items
    assert [o["metadata"]["name"] for o in on_node] == ["p01", "p05", "p07", "p11"]
    unbound = db.list("pods", "a", label_terms=terms, node_name="").items
    assert [o["metadata"]["name"] for o in unbound] == ["p03", "p09"]
    assert db.list("pods", "a", label_terms=terms, phase="Pending").items == []
