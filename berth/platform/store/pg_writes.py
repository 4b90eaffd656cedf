"""PostgreSQL: a create or an update as one statement, so the revision row's lock is held
for one.

Every write takes the ``revision`` row's lock first (its version), and holds it to the
commit: that lock orders commits by resourceVersion. Sent one by one, a create's statements
(the version, the object, its labels, the change) held it across four round trips and the
Python between them (an update's, five), and every other writer waited that long; inside a
group commit each write's round trips lengthened the whole batch's hold. Here they are one
statement of data-modifying CTEs, so the lock is held for its execution and the COMMIT. The
object comes encoded ahead (``encoded``): the server splices the version into its JSON, and
the change log's row takes the same text. A taken key fails the statement as the INSERT alone
would (``IntegrityError``); an update that finds no row (gone, or at another version) returns None,
and the caller undoes the transaction (the version taken with it). The change log's trigger
announces each as before.
"""

from __future__ import annotations

import json

from sqlalchemy import text

from berth.platform.store.encoded import MARK, Encoded
from berth.platform.store.prepared import Prepared

_NEXT = "r AS (UPDATE revision SET current = current + 1 WHERE id = 1 RETURNING current)"
_SPLICED = (
    "replace(CAST(:data AS text), CAST(:mark AS text),"
    " '\"resourceVersion\":\"' || r.current || '\"')"
)
_CREATE = Prepared(
    text(
        f"WITH {_NEXT},"
        " o AS (INSERT INTO objects (resource, namespace, name, uid, rv, node_name, phase, data)"
        " SELECT CAST(:resource AS text), CAST(:namespace AS text), CAST(:name AS text),"
        " CAST(:uid AS text), r.current, CAST(:node_name AS text), CAST(:phase AS text),"
        f" {_SPLICED} FROM r RETURNING id, rv, data),"
        " l AS (INSERT INTO labels (object_id, resource, key, value)"
        " SELECT o.id, CAST(:resource AS text), k.key, k.value"
        " FROM o, json_each_text(CAST(:labels AS json)) AS k),"
        " c AS (INSERT INTO changes (rv, resource, namespace, name, type, data)"
        " SELECT o.rv, CAST(:resource AS text), CAST(:namespace AS text), CAST(:name AS text),"
        " 'ADDED', o.data FROM o)"
        " SELECT rv FROM o"
    )
)


def create(
    conn,
    resource: str,
    namespace: str,
    name: str,
    uid: str,
    encoded: Encoded,
    labels: dict | None,
) -> int:
    """Write one new object (and its labels and change) at the next resourceVersion, which
    it returns."""
    ((rv,),) = _CREATE.rows(
        conn,
        {
            "resource": resource,
            "namespace": namespace,
            "name": name,
            "uid": uid,
            "data": encoded.data,
            "mark": MARK,
            "labels": json.dumps(labels or {}),
            **encoded.columns,
        },
    )
    return rv


def _update_statement(at_version: bool, relabel: bool) -> Prepared:
    where = (
        "objects.resource = CAST(:resource AS text)"
        " AND objects.namespace = CAST(:namespace AS text)"
        " AND objects.name = CAST(:name AS text)"
    )
    if at_version:
        where += " AND objects.rv = CAST(:k_rv AS bigint)"
    labels = (
        ", d AS (DELETE FROM labels WHERE object_id IN (SELECT id FROM o)),"
        " l AS (INSERT INTO labels (object_id, resource, key, value)"
        " SELECT o.id, CAST(:resource AS text), k.key, k.value"
        " FROM o, json_each_text(CAST(:labels AS json)) AS k)"
        if relabel
        else ""
    )
    return Prepared(
        text(
            f"WITH {_NEXT},"
            " o AS (UPDATE objects SET rv = r.current, node_name = CAST(:node_name AS text),"
            f" phase = CAST(:phase AS text), data = {_SPLICED}"
            f" FROM r WHERE {where} RETURNING objects.id, objects.rv, objects.data)"
            f"{labels},"
            " c AS (INSERT INTO changes (rv, resource, namespace, name, type, data)"
            " SELECT o.rv, CAST(:resource AS text), CAST(:namespace AS text), CAST(:name AS text),"
            " 'MODIFIED', o.data FROM o)"
            " SELECT rv FROM o"
        )
    )


_UPDATES = {
    (at, relabel): _update_statement(at, relabel)
    for at in (False, True)
    for relabel in (False, True)
}


def update(
    conn,
    resource: str,
    namespace: str,
    name: str,
    expected_rv: int | None,
    encoded: Encoded,
    labels: dict | None,
    relabel: bool,
) -> int | None:
    """Write an object's new state at the next resourceVersion, which it returns (its
    labels too when ``relabel``); None when no object of that key is at ``expected_rv``
    (or at all): the caller undoes the transaction."""
    params = {
        "resource": resource,
        "namespace": namespace,
        "name": name,
        "data": encoded.data,
        "mark": MARK,
        **encoded.columns,
    }
    if expected_rv is not None:
        params["k_rv"] = expected_rv
    if relabel:
        params["labels"] = json.dumps(labels or {})
    rows = _UPDATES[(expected_rv is not None, relabel)].rows(conn, params)
    return rows[0][0] if rows else None
