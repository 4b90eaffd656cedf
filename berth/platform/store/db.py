"""The raw store: rows of objects, each write a compare-and-set that appends to the change log.

This layer knows nothing of kinds, defaults or validation (that is ``client.py``). It promises:
one global, strictly increasing ``resourceVersion``; a write either lands whole (object, labels,
change) or not at all; an update or delete with an expected ``resourceVersion`` that is stale
fails with ``Conflict``; the change log answers "what happened after rv N" until compaction,
after which it answers ``Gone``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NoReturn

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from berth.platform.errors import AlreadyExists, Conflict, Gone, NotFound
from berth.platform.store import bulk
from berth.platform.store.codec import Codec
from berth.platform.store.columns import findable, indexed_columns
from berth.platform.store.dialect import Dialect
from berth.platform.store.tables import CHANGES, LABELS, LEASES, OBJECTS, REVISION
from berth.platform.store.transactions import Savepoint, WriteTransaction

COMPACT_EVERY = 1000
ANALYZE_EVERY = 20_000
# A label selector matching at most this many objects is answered from the label index.
SELECTIVE_IDS = 2000

# The statements of every write and of a get, built once: building one per call (SQLAlchemy
# coercing each clause and computing its cache key) cost about as much CPU as SQLite running
# it. Parameters named ``k_*`` are the key; the others are the columns an update sets.
_KEY = (
    OBJECTS.c.resource == bindparam("k_resource"),
    OBJECTS.c.namespace == bindparam("k_namespace"),
    OBJECTS.c.name == bindparam("k_name"),
)
_GET = select(OBJECTS.c.data).where(*_KEY)
_NEXT_RV = (
    update(REVISION)
    .where(REVISION.c.id == 1)
    .values(current=REVISION.c.current + 1)
    .returning(REVISION.c.current)
)
_UPDATE = update(OBJECTS).where(*_KEY).returning(OBJECTS.c.id)
_UPDATE_AT = update(OBJECTS).where(*_KEY, OBJECTS.c.rv == bindparam("k_rv")).returning(OBJECTS.c.id)
_APPEND = insert(CHANGES)
_INSERT = insert(OBJECTS).returning(OBJECTS.c.id)
_LABEL = insert(LABELS)
_LOCK_REVISION = select(REVISION.c.current).where(REVISION.c.id == 1).with_for_update()
_UNLABEL = delete(LABELS).where(LABELS.c.object_id == bindparam("k_id"))


def _key_params(resource: str, namespace: str, name: str) -> dict:
    return {"k_resource": resource, "k_namespace": namespace, "k_name": name}


@dataclass(frozen=True)
class Change:
    rv: int
    resource: str
    namespace: str
    name: str
    type: str  # ADDED | MODIFIED | DELETED
    object: dict


@dataclass(frozen=True)
class Page:
    items: list[dict]
    resource_version: int
    next_key: tuple[str, str] | None  # (namespace, name) of the last item when more remain


LabelTerm = tuple[str, "tuple[str, ...] | None"]
# Called inside a write's transaction, before anything is written; raises to refuse the write
# (a fencing check: ``lease.Fence``).
Guard = Callable[[object], None]  # (key, allowed values) or (key, None): exists


class Database:
    def __init__(self, url: str, codec: Codec, window: int = 50_000):
        self.dialect = Dialect(url)
        self.engine = self.dialect.engine()
        self.codec = codec
        self.window = window
        self._writes = 0
        self._count_lock = threading.Lock()
        self.on_commit: list[Callable[[int], None]] = []
        self._local = threading.local()  # .batch: (connection, rvs written) inside batch()

    # -- lifecycle ------------------------------------------------------------------------
    def migrate(self) -> None:
        SQLModel.metadata.create_all(
            self.engine, tables=[OBJECTS, LABELS, CHANGES, REVISION, LEASES]
        )
        with self.dialect.writing(), self.engine.connect() as conn:
            self.dialect.mark_write(conn)
            with conn.begin():
                if conn.execute(select(REVISION.c.id)).first() is None:
                    conn.execute(insert(REVISION).values(id=1, current=0, compacted=0))
        self.dialect.refresh_statistics(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # -- reads ----------------------------------------------------------------------------
    def current_rv(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(REVISION.c.current)).scalar_one()

    def compacted_rv(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(REVISION.c.compacted)).scalar_one()

    def get(self, resource: str, namespace: str, name: str) -> dict | None:
        if not findable(namespace, name):
            return None
        with self.engine.connect() as conn:
            row = conn.execute(_GET, _key_params(resource, namespace, name)).first()
        return self.codec.decode(resource, row[0]) if row else None

    def get_by_uid(self, uid: str) -> tuple[str, dict] | None:
        if not findable(uid):
            return None
        with self.engine.connect() as conn:
            row = conn.execute(
                select(OBJECTS.c.resource, OBJECTS.c.data).where(OBJECTS.c.uid == uid)
            ).first()
        return (row[0], self.codec.decode(row[0], row[1])) if row else None

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
        with self.engine.connect() as conn:
            return conn.execute(
                select(func.count()).select_from(OBJECTS).where(OBJECTS.c.resource == resource)
            ).scalar_one()

    def changes_since(self, rv: int, limit: int = 1000) -> list[Change]:
        with self.engine.connect() as conn:
            with conn.begin():
                compacted = conn.execute(select(REVISION.c.compacted)).scalar_one()
                if rv < compacted:
                    raise Gone(f"too old resource version: {rv} ({compacted + 1})")
                rows = conn.execute(
                    select(CHANGES).where(CHANGES.c.rv > rv).order_by(CHANGES.c.rv).limit(limit)
                ).all()
        return [
            Change(
                r.rv, r.resource, r.namespace, r.name, r.type, self.codec.decode(r.resource, r.data)
            )
            for r in rows
        ]

    # -- writes ---------------------------------------------------------------------------
    def create(self, resource: str, obj: dict, guard: Guard | None = None) -> dict:
        md = obj["metadata"]
        ns, name = md.get("namespace") or "", md["name"]
        try:
            with self._transaction() as conn:
                rv = self._next_rv(conn, obj)
                self._guard(conn, guard)
                data = self.codec.encode(resource, obj)
                object_id = conn.execute(
                    _INSERT,
                    {
                        "resource": resource,
                        "namespace": ns,
                        "name": name,
                        "uid": md["uid"],
                        "rv": rv,
                        "data": data,
                        **indexed_columns(resource, obj),
                    },
                ).scalar_one()
                self._write_labels(conn, resource, object_id, md.get("labels"))
                self._append(conn, rv, resource, ns, name, "ADDED", data)
        except IntegrityError:
            raise AlreadyExists(resource, name) from None
        self._committed(rv)
        return obj

    def create_many(
        self, resource: str, objs: list[dict], guard: Guard | None = None
    ) -> list[dict | AlreadyExists]:
        """Create ``objs`` together, in one transaction (``batch``: the caller's, if inside
        one) and a few statements (``bulk``): per object, in order, the object as stored or
        ``AlreadyExists`` when its key is taken (by a stored object or an earlier one in the
        list). The ones written get consecutive resourceVersions in list order, each its own
        change-log row, announced at the commit. ``guard`` runs once, first; when it raises,
        nothing is written. Should a key be taken between the read of the taken keys and the
        insert (another PostgreSQL writer), the bulk insert is undone and each object is
        created alone in its own savepoint, as ``create`` inside a batch does."""
        with self.batch(guard):
            conn = self._local.batch[0]
            try:
                with Savepoint(conn):
                    taken = bulk.taken_keys(conn, resource, objs)
                    wanted = bulk.fresh(objs, taken)
                    writing = [o for o, w in zip(objs, wanted, strict=True) if w]
                    rvs = bulk.insert_all(conn, self.codec, resource, writing)
            except IntegrityError:
                return [self._create_or_exists(resource, obj, guard) for obj in objs]
            for rv in rvs:
                self._committed(rv)
        return [
            obj if w else AlreadyExists(resource, bulk.key_of(obj)[1])
            for obj, w in zip(objs, wanted, strict=True)
        ]

    def _create_or_exists(
        self, resource: str, obj: dict, guard: Guard | None
    ) -> dict | AlreadyExists:
        try:
            return self.create(resource, obj, guard)
        except AlreadyExists as exc:
            return exc

    def update(
        self,
        resource: str,
        obj: dict,
        expected_rv: int | None,
        relabel: bool = True,
        guard: Guard | None = None,
    ) -> dict:
        md = obj["metadata"]
        ns, name = md.get("namespace") or "", md["name"]
        with self._transaction() as conn:
            rv = self._next_rv(conn, obj)
            self._guard(conn, guard)
            data = self.codec.encode(resource, obj)
            params = {
                **_key_params(resource, ns, name),
                "rv": rv,
                "data": data,
                **indexed_columns(resource, obj),
            }
            if expected_rv is not None:
                params["k_rv"] = expected_rv
            row = conn.execute(_UPDATE if expected_rv is None else _UPDATE_AT, params).first()
            if row is None:
                self._missing_or_stale(conn, resource, ns, name)
            if relabel:
                conn.execute(_UNLABEL, {"k_id": row[0]})
                self._write_labels(conn, resource, row[0], md.get("labels"))
            self._append(conn, rv, resource, ns, name, "MODIFIED", data)
        self._committed(rv)
        return obj

    def delete(
        self,
        resource: str,
        namespace: str,
        name: str,
        expected_rv: int | None = None,
        expected_uid: str | None = None,
        guard: Guard | None = None,
    ) -> dict:
        with self._transaction() as conn:
            # The revision row first, as in every write: one lock order, no deadlocks.
            rv = self._next_rv(conn, {"metadata": {}})
            self._guard(conn, guard)
            where = [
                OBJECTS.c.resource == resource,
                OBJECTS.c.namespace == namespace,
                OBJECTS.c.name == name,
            ]
            if expected_rv is not None:
                where.append(OBJECTS.c.rv == expected_rv)
            if expected_uid is not None:
                where.append(OBJECTS.c.uid == expected_uid)
            row = conn.execute(
                delete(OBJECTS).where(*where).returning(OBJECTS.c.id, OBJECTS.c.data)
            ).first()
            if row is None:
                self._missing_or_stale(conn, resource, namespace, name)
            conn.execute(delete(LABELS).where(LABELS.c.object_id == row[0]))
            obj = self.codec.decode(resource, row[1])
            obj["metadata"]["resourceVersion"] = str(rv)
            self._append(
                conn, rv, resource, namespace, name, "DELETED", self.codec.encode(resource, obj)
            )
        self._committed(rv)
        return obj

    def transaction(self):
        """A write transaction for rows outside the objects (the leases): ``with`` gives the
        connection; commit on success."""
        return self._transaction()

    # -- internals ------------------------------------------------------------------------
    @contextmanager
    def batch(self, guard: Guard | None = None) -> Iterator[None]:
        """Group commit: the writes this thread makes inside commit together, in one
        transaction (one write lock, one sync to disk). Each write runs in its own savepoint,
        so one that fails (a conflict, a missing object) is undone alone and the others stand;
        an error that leaves the block undoes them all. Every write still gets its own
        resourceVersion and change-log row; watchers see them at the commit, in order.
        Reads inside see only committed state: write each object at most once per batch.

        ``guard`` runs once, first in the transaction (after the revision row, the lock order
        of every write), and the writes inside that pass the same guard do not run it again:
        what it read holds until the commit (SQLite: one writer; PostgreSQL: the guard's own
        row lock, ``lease.Fence``). When it raises, nothing inside is written."""
        outer = getattr(self._local, "batch", None)
        if outer is not None:
            if guard is not None and guard not in outer[2]:
                guard(outer[0])
                outer[2].add(guard)
            yield  # already inside one: the outer batch commits
            return
        written: list[int] = []
        with WriteTransaction(self) as conn:
            guards: set = set()
            if guard is not None:
                conn.execute(_LOCK_REVISION)
                guard(conn)
                guards.add(guard)
            self._local.batch = (conn, written, guards)
            try:
                yield
            finally:
                self._local.batch = None
        for rv in written:
            self._committed(rv)

    def _transaction(self):
        batch = getattr(self._local, "batch", None)
        return WriteTransaction(self) if batch is None else Savepoint(batch[0])

    def _guard(self, conn, guard: Guard | None) -> None:
        """Run a write's guard, unless the batch it is part of ran that guard already."""
        if guard is None:
            return
        batch = getattr(self._local, "batch", None)
        if batch is not None and guard in batch[2]:
            return
        guard(conn)

    def _next_rv(self, conn, obj: dict) -> int:
        rv = conn.execute(_NEXT_RV).scalar_one()
        obj["metadata"]["resourceVersion"] = str(rv)
        return rv

    @staticmethod
    def _write_labels(conn, resource: str, object_id: int, labels: dict | None) -> None:
        if labels:
            conn.execute(
                _LABEL,
                [
                    {"object_id": object_id, "resource": resource, "key": k, "value": v}
                    for k, v in labels.items()
                ],
            )

    @staticmethod
    def _append(conn, rv: int, resource: str, ns: str, name: str, kind: str, data: str) -> None:
        conn.execute(
            _APPEND,
            {
                "rv": rv,
                "resource": resource,
                "namespace": ns,
                "name": name,
                "type": kind,
                "data": data,
            },
        )

    @staticmethod
    def _missing_or_stale(conn, resource: str, ns: str, name: str) -> NoReturn:
        exists = conn.execute(
            select(OBJECTS.c.id).where(
                OBJECTS.c.resource == resource, OBJECTS.c.namespace == ns, OBJECTS.c.name == name
            )
        ).first()
        if exists is None:
            raise NotFound(resource, name)
        raise Conflict(resource, name)

    def _committed(self, rv: int) -> None:
        batch = getattr(self._local, "batch", None)
        if batch is not None:
            batch[1].append(rv)  # announced when the batch commits
            return
        with self._count_lock:
            self._writes += 1
            due = self._writes % max(1, min(COMPACT_EVERY, self.window // 2)) == 0
            analyze = self._writes % ANALYZE_EVERY == 0
        if due:
            self.compact()
        if analyze:
            self.dialect.refresh_statistics(self.engine)
        for hook in self.on_commit:
            hook(rv)

    def compact(self) -> None:
        with self._transaction() as conn:
            current = conn.execute(select(REVISION.c.current)).scalar_one()
            floor = current - self.window
            if floor > 0:
                conn.execute(delete(CHANGES).where(CHANGES.c.rv <= floor))
                conn.execute(
                    update(REVISION)
                    .where(REVISION.c.id == 1)
                    .values(compacted=self.dialect.greatest(REVISION.c.compacted, floor))
                )


def _key(obj: dict) -> tuple[str, str]:
    md = obj["metadata"]
    return (md.get("namespace") or "", md["name"])
