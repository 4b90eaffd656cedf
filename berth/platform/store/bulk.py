"""Many creates as a few statements: the bulk path of ``Database.create_many``.

A thousand Jobs written one ``create`` at a time cost six statements each (a savepoint, the
revision, the object, its labels, the change, the release), every one built, compiled and sent
on its own. Here a chunk costs about five in all: one read of the names already taken, one
revision update that reserves a resourceVersion for every object to write (in list order, so
each still gets its own, strictly increasing, with no gaps), and one multi-row insert each into
objects, labels and the change log. The statements are built once, at import.

On PostgreSQL each multi-row insert passes its rows as one JSON document that the server
unpacks (``json_to_recordset``) instead: a multi-row ``VALUES`` of a 250-object chunk has
thousands of placeholders, and psycopg parses such a statement afresh on every call (it caches
only short ones), which took half the time of a chunk; psycopg's text arrays, the other way to
pass a column at once, escape every character of the data with a regular expression, slower
still. ``json.dumps`` and the server's JSON parser are both C.
"""

from __future__ import annotations

import json

from sqlalchemy import bindparam, insert, select, text, tuple_, update

from berth.platform.store.codec import Codec
from berth.platform.store.columns import indexed_columns
from berth.platform.store.tables import CHANGES, LABELS, OBJECTS, REVISION

_RESERVE = (
    update(REVISION)
    .where(REVISION.c.id == 1)
    .values(current=REVISION.c.current + bindparam("n"))
    .returning(REVISION.c.current)
)
# Rows come back in no set order (asking for parameter order makes SQLAlchemy send one INSERT
# per row on SQLite): each carries its key.
_INSERT_OBJECTS = insert(OBJECTS).returning(OBJECTS.c.id, OBJECTS.c.namespace, OBJECTS.c.name)
# RETURNING makes SQLAlchemy send each as multi-row INSERTs ("insertmanyvalues") on every
# driver; without it psycopg sends one INSERT per row.
_INSERT_LABELS = insert(LABELS).returning(LABELS.c.id)
_INSERT_CHANGES = insert(CHANGES).returning(CHANGES.c.rv)
_PG_COLUMNS = {
    OBJECTS.name: (
        ("resource", "text"),
        ("namespace", "text"),
        ("name", "text"),
        ("uid", "text"),
        ("rv", "bigint"),
        ("node_name", "text"),
        ("phase", "text"),
        ("data", "text"),
    ),
    LABELS.name: (
        ("object_id", "bigint"),
        ("resource", "text"),
        ("key", "text"),
        ("value", "text"),
    ),
    CHANGES.name: (
        ("rv", "bigint"),
        ("resource", "text"),
        ("namespace", "text"),
        ("name", "text"),
        ("type", "text"),
        ("data", "text"),
    ),
}
_PG_RETURNING = {OBJECTS.name: "id, namespace, name", LABELS.name: "id", CHANGES.name: "rv"}
_PG_INSERTS = {
    table: text(
        f"INSERT INTO {table} ({', '.join(c for c, _ in columns)}) "
        f"SELECT * FROM json_to_recordset(CAST(:rows AS json)) "
        f"AS r({', '.join(f'{c} {t}' for c, t in columns)}) "
        f"RETURNING {_PG_RETURNING[table]}"
    )
    for table, columns in _PG_COLUMNS.items()
}
_INSERTS = {
    OBJECTS.name: _INSERT_OBJECTS,
    LABELS.name: _INSERT_LABELS,
    CHANGES.name: _INSERT_CHANGES,
}

_TAKEN = select(OBJECTS.c.namespace, OBJECTS.c.name).where(
    OBJECTS.c.resource == bindparam("resource"),
    tuple_(OBJECTS.c.namespace, OBJECTS.c.name).in_(bindparam("keys", expanding=True)),
)
# The same on PostgreSQL, with the keys as one JSON document (an expanding IN is a new
# statement, parsed afresh by psycopg, for every number of keys).
_PG_TAKEN = text(
    "SELECT o.namespace, o.name FROM objects AS o"
    " JOIN json_to_recordset(CAST(:keys AS json)) AS k(namespace text, name text)"
    " ON o.namespace = k.namespace AND o.name = k.name WHERE o.resource = :resource"
)


def key_of(obj: dict) -> tuple[str, str]:
    md = obj["metadata"]
    return (md.get("namespace") or "", md["name"])


def fresh(objs: list[dict], taken: set[tuple[str, str]]) -> list[bool]:
    """Which of ``objs`` to write: those whose key is not ``taken`` and not the key of an
    earlier one in the list (the first of two with one name wins; the second exists)."""
    seen = set(taken)
    out = []
    for obj in objs:
        key = key_of(obj)
        out.append(key not in seen)
        seen.add(key)
    return out


def taken_keys(conn, resource: str, objs: list[dict]) -> set[tuple[str, str]]:
    """The keys among ``objs`` that name an object already stored."""
    keys = sorted({key_of(o) for o in objs})
    if not keys:
        return set()
    if conn.dialect.name == "postgresql":
        doc = json.dumps([{"namespace": ns, "name": name} for ns, name in keys])
        rows = conn.execute(_PG_TAKEN, {"resource": resource, "keys": doc}).all()
    else:
        rows = conn.execute(_TAKEN, {"resource": resource, "keys": keys}).all()
    return {(r[0], r[1]) for r in rows}


def insert_all(conn, codec: Codec, resource: str, objs: list[dict]) -> list[int]:
    """Write ``objs`` (none of whose keys is taken) with consecutive new resourceVersions, in
    list order: each object's ``metadata.resourceVersion`` is set; returns the versions. The
    caller holds the write transaction (after the revision row's lock and the guard)."""
    if not objs:
        return []
    last = conn.execute(_RESERVE, {"n": len(objs)}).scalar_one()
    rvs = list(range(last - len(objs) + 1, last + 1))
    rows, changes = [], []
    for obj, rv in zip(objs, rvs, strict=True):
        md = obj["metadata"]
        md["resourceVersion"] = str(rv)
        ns, name = key_of(obj)
        data = codec.encode(resource, obj)
        rows.append(
            {
                "resource": resource,
                "namespace": ns,
                "name": name,
                "uid": md["uid"],
                "rv": rv,
                "data": data,
                **indexed_columns(resource, obj),
            }
        )
        changes.append(
            {
                "rv": rv,
                "resource": resource,
                "namespace": ns,
                "name": name,
                "type": "ADDED",
                "data": data,
            }
        )
    ids = {(r[1], r[2]): r[0] for r in _insert(conn, OBJECTS.name, rows)}
    labels = [
        {"object_id": object_id, "resource": resource, "key": k, "value": v}
        for obj, object_id in ((o, ids[key_of(o)]) for o in objs)
        for k, v in (obj["metadata"].get("labels") or {}).items()
    ]
    if labels:
        _insert(conn, LABELS.name, labels)
    _insert(conn, CHANGES.name, changes)
    return rvs


def _insert(conn, table: str, rows: list[dict]) -> list:
    """Insert ``rows`` into ``table`` in one statement; the RETURNING rows, all read.

    Read whole here, so no statement is left in progress: a one-row insert is sent as a plain
    statement whose rows SQLite steps through as they are fetched, and while its cursor
    lives (a caller's frame held by a sampling profiler keeps it) SQLite refuses to release
    the savepoint around it ("cannot release savepoint - SQL statements in progress")."""
    if conn.dialect.name != "postgresql":
        return conn.execute(_INSERTS[table], rows).all()
    return conn.execute(_PG_INSERTS[table], {"rows": json.dumps(rows)}).all()
