"""The raw store's reads: one object by key or uid, pages of objects narrowed by the indexed
columns and the label index, and the change log after a resourceVersion."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, or_, select, true

from berth.platform.errors import Gone
from berth.platform.store.codec import Codec
from berth.platform.store.columns import findable
from berth.platform.store.db_base import KEY, DatabaseBase, key_params
from berth.platform.store.prepared import Prepared
from berth.platform.store.tables import CHANGES, LABELS, OBJECTS, REVISION

# A label selector matching at most this many objects is answered from the label index.
SELECTIVE_IDS = 2000

# Built once: building a statement per call (SQLAlchemy coercing each clause and computing its
# cache key) cost about as much CPU as SQLite running it.
_GET = Prepared(select(OBJECTS.c.data).where(*KEY))
_CURRENT = Prepared(select(REVISION.c.current))
_COMPACTED = Prepared(select(REVISION.c.compacted))
_BY_UID = Prepared(
    select(OBJECTS.c.resource, OBJECTS.c.data).where(OBJECTS.c.uid == bindparam("uid"))
)
_CHANGES_AFTER = (
    select(
        CHANGES.c.rv,
        CHANGES.c.resource,
        CHANGES.c.namespace,
        CHANGES.c.name,
        CHANGES.c.type,
        CHANGES.c.data,
    )
    .where(CHANGES.c.rv > bindparam("after"))
    .order_by(CHANGES.c.rv)
    .limit(bindparam("limit"))
)
# The compaction floor and the changes after ``after`` in one statement, so from one snapshot
# (a compaction between two reads would hide the changes it removed) and in one round trip:
# one row with NULL changes when there are none.
_AFTER = _CHANGES_AFTER.subquery("after")
_FLOOR_AND_CHANGES = Prepared(
    select(REVISION.c.compacted, *_AFTER.c)
    .select_from(REVISION.outerjoin(_AFTER, true()))
    .where(REVISION.c.id == 1)
    .order_by(_AFTER.c.rv)
)
_CHANGES = Prepared(_CHANGES_AFTER)


class Change:
    """One row of the change log. Its object is decoded when first read, once for every
    reader in the process: the informers and each watch share it (read-only), and a change
    that no one reads (say, Events in a process that watches none) is never decoded."""

    __slots__ = ("_codec", "_object", "data", "name", "namespace", "resource", "rv", "type")

    def __init__(
        self, rv: int, resource: str, namespace: str, name: str, type: str, data: str, codec: Codec
    ):
        self.rv = rv
        self.resource = resource
        self.namespace = namespace
        self.name = name
        self.type = type  # ADDED | MODIFIED | DELETED
        self.data = data
        self._codec = codec
        self._object: dict | None = None

    @property
    def object(self) -> dict:
        obj = self._object
        if obj is None:  # two threads may both decode it first: either result serves
            obj = self._object = self._codec.decode(self.resource, self.data)
        return obj

    def __repr__(self) -> str:
        return f"Change({self.rv}, {self.type} {self.resource} {self.namespace}/{self.name})"


@dataclass(frozen=True)
class Page:
    items: list[dict]
    resource_version: int
    next_key: tuple[str, str] | None  # (namespace, name) of the last item when more remain


LabelTerm = tuple[str, "tuple[str, ...] | None"]


class DatabaseReads(DatabaseBase):
    def reading(self):
        """A connection for a read of one statement (``Dialect.read_options``)."""
        return self.engine.connect().execution_options(**self.dialect.read_options())

    def current_rv(self) -> int:
        with self.reading() as conn:
            ((current,),) = _CURRENT.rows(conn)
        return current

    def compacted_rv(self) -> int:
        with self.reading() as conn:
            ((compacted,),) = _COMPACTED.rows(conn)
        return compacted

    def get(self, resource: str, namespace: str, name: str) -> dict | None:
        if not findable(namespace, name):
            return None
        with self.reading() as conn:
            rows = _GET.rows(conn, key_params(resource, namespace, name))
        return self.codec.decode(resource, rows[0][0]) if rows else None

    def get_by_uid(self, uid: str) -> tuple[str, dict] | None:
        if not findable(uid):
            return None
        with self.reading() as conn:
            rows = _BY_UID.rows(conn, {"uid": uid})
        return (rows[0][0], self.codec.decode(rows[0][0], rows[0][1])) if rows else None

    def list(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        label_terms: Iterable[LabelTerm] = (),
        name: str | None = None,
        node_name: str | None = None,
        phase: str | None = None,
        start_after: tuple[str, str] | None = None,
        limit: int | None = None,
        predicate: Callable[[dict], bool] | None = None,
    ) -> Page:
        """Objects in (namespace, name) order. SQL narrows by the indexed columns and label
        terms; ``predicate`` (the exact selectors) decides; ``limit`` counts matches."""
        label_terms = list(label_terms)
        if not findable(
            namespace,
            name,
            node_name,
            phase,
            *(start_after or ()),
            *(v for _, values in label_terms for v in values or ()),
        ):
            return Page([], self.current_rv(), None)
        where = [OBJECTS.c.resource == resource]
        if namespace is not None:
            where.append(OBJECTS.c.namespace == namespace)
        if name is not None:
            where.append(OBJECTS.c.name == name)
        if node_name is not None:
            where.append(
                OBJECTS.c.node_name == node_name
                if node_name
                else or_(OBJECTS.c.node_name.is_(None), OBJECTS.c.node_name == "")
            )
        if phase is not None:
            where.append(OBJECTS.c.phase == phase)
        batch = max(min((limit or 1000) * 2, 5000), 100)
        with self.engine.connect().execution_options(**self.dialect.snapshot_options()) as conn:
            with conn.begin():
                rv = conn.execute(select(REVISION.c.current)).scalar_one()
                filters, ids = self._label_filters(conn, resource, label_terms)
                if ids is not None:
                    # At most SELECTIVE_IDS rows: fetch them by primary key and filter and
                    # order them here. With the key columns in SQL the planner walks the key
                    # index instead (every object of the namespace).
                    rows = conn.execute(
                        select(
                            OBJECTS.c.resource,
                            OBJECTS.c.namespace,
                            OBJECTS.c.name,
                            OBJECTS.c.node_name,
                            OBJECTS.c.phase,
                            OBJECTS.c.data,
                        ).where(OBJECTS.c.id.in_(ids), *filters)
                    ).all()
                    wanted = {1: namespace, 2: name, 4: phase}
                    rows = sorted(
                        (r[1], r[2], r[5])
                        for r in rows
                        if r[0] == resource
                        and all(v is None or r[i] == v for i, v in wanted.items())
                        and (node_name is None or (r[3] or "") == node_name)
                        and (start_after is None or (r[1], r[2]) > start_after)
                    )
                    return self._page(resource, rows, rv, limit, predicate)
                return self._walk(
                    conn,
                    resource,
                    where + filters,
                    namespace,
                    start_after,
                    batch,
                    rv,
                    limit,
                    predicate,
                )

    def _walk(self, conn, resource, where, namespace, after, batch, rv, limit, predicate) -> Page:
        """Objects in key order, a batch at a time, until ``limit`` match."""
        items: list[dict] = []
        while True:
            query = select(OBJECTS.c.namespace, OBJECTS.c.name, OBJECTS.c.data).where(*where)
            if after is not None and namespace is not None:
                query = query.where(OBJECTS.c.name > after[1])  # one namespace: by name
            elif after is not None:
                query = query.where(
                    or_(
                        OBJECTS.c.namespace > after[0],
                        and_(OBJECTS.c.namespace == after[0], OBJECTS.c.name > after[1]),
                    )
                )
            rows = conn.execute(
                query.order_by(OBJECTS.c.namespace, OBJECTS.c.name).limit(batch)
            ).all()
            page = self._page(resource, rows, rv, limit, predicate, items)
            if page.next_key is not None or len(rows) < batch:
                return page
            after = (rows[-1][0], rows[-1][1])

    def _page(self, resource, rows, rv, limit, predicate, items=None) -> Page:
        items = [] if items is None else items
        for _ns, _nm, data in rows:
            obj = self.codec.decode(resource, data)
            if predicate is None or predicate(obj):
                if limit is not None and len(items) == limit:
                    return Page(items, rv, _key(items[-1]))
                items.append(obj)
        return Page(items, rv, None)

    @staticmethod
    def _label_filters(
        conn, resource: str, label_terms: list[LabelTerm]
    ) -> tuple[list, list[int] | None]:
        """SQL conditions for the label terms, and the ids of the objects carrying the most
        selective term when few do (the caller then starts from those ids); otherwise each
        term is a subquery and the database walks objects in key order."""
        out = []
        picked, picked_ids = None, None
        for key, values in label_terms:
            if values is None or picked is not None:
                continue
            ids = (
                conn.execute(
                    select(LABELS.c.object_id)
                    .where(
                        LABELS.c.resource == resource,
                        LABELS.c.key == key,
                        LABELS.c.value.in_(values),
                    )
                    .limit(SELECTIVE_IDS + 1)
                )
                .scalars()
                .all()
            )
            if len(ids) <= SELECTIVE_IDS:
                picked, picked_ids = key, ids
        for key, values in label_terms:
            if key == picked:
                continue
            sub = select(LABELS.c.object_id).where(
                LABELS.c.resource == resource, LABELS.c.key == key
            )
            if values is not None:
                sub = sub.where(LABELS.c.value.in_(values))
            out.append(OBJECTS.c.id.in_(sub))
        return out, picked_ids

    def count(self, resource: str) -> int:
        with self.reading() as conn:
            return conn.execute(
                select(func.count()).select_from(OBJECTS).where(OBJECTS.c.resource == resource)
            ).scalar_one()

    def changes_since(
        self, rv: int, limit: int = 1000, reader: Connection | None = None
    ) -> list[Change]:
        """Changes after ``rv``, oldest first; ``Gone`` when the log is compacted past it.
        One query when the log holds ``rv + 1`` (nothing after ``rv`` can have been
        compacted away then); otherwise a second reads the compaction floor with the rows
        (each statement its own snapshot). ``reader``: a connection from ``reading()`` that
        the caller holds for its repeated reads (the change feed's thread); else one is
        taken from the pool for this call."""
        if reader is None:
            with self.reading() as conn:
                return self.changes_since(rv, limit, conn)
        rows: Sequence[Any] = _CHANGES.rows(reader, {"after": rv, "limit": limit})
        if not rows or rows[0][0] != rv + 1:
            floored: Sequence[Any] = _FLOOR_AND_CHANGES.rows(reader, {"after": rv, "limit": limit})
            compacted = floored[0][0]
            if rv < compacted:
                raise Gone(f"too old resource version: {rv} ({compacted + 1})")
            rows = [r[1:] for r in floored if r[1] is not None]
        codec = self.codec
        return [Change(r[0], r[1], r[2], r[3], r[4], r[5], codec) for r in rows]


def _key(obj: dict) -> tuple[str, str]:
    md = obj["metadata"]
    return (md.get("namespace") or "", md["name"])
