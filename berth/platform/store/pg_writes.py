"""PostgreSQL: a create as one statement, so the revision row's lock is held for one.

Every write takes the ``revision`` row's lock first (its version), and holds it to the
commit: that lock orders commits by resourceVersion. Sent one by one, a create's statements
(the version, the object, its labels, the change) held it across four round trips and the
Python between them, and every other writer waited that long. Here they are one statement of
data-modifying CTEs, so the lock is held for its execution and the COMMIT. The object comes
encoded ahead (``encoded``): the server splices the version into its JSON, and the change
log's row takes the same text. A taken key fails the statement as the INSERT alone would
(``IntegrityError``); the change log's trigger announces it as before.
"""

from __future__ import annotations

import json

from sqlalchemy import text

from berth.platform.store.encoded import MARK, Encoded
from berth.platform.store.prepared import Prepared

_CREATE = Prepared(
    text(
        "WITH r AS (UPDATE revision SET current = current + 1 WHERE id = 1 RETURNING current),"
        " o AS (INSERT INTO objects (resource, namespace, name, uid, rv, node_name, phase, data)"
        " SELECT CAST(:resource AS text), CAST(:namespace AS text), CAST(:name AS text),"
        " CAST(:uid AS text), r.current, CAST(:node_name AS text), CAST(:phase AS text),"
        " replace(CAST(:data AS text), CAST(:mark AS text),"
        " '\"resourceVersion\":\"' || r.current || '\"')"
        " FROM r RETURNING id, rv, data),"
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
