"""The raw store's writes: create, create many, update and delete, each a compare-and-set that
appends to the change log in the same transaction; group commit (``batch``); compaction of the
change log; and the hooks that announce each commit (``on_commit``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from berth.platform.errors import AlreadyExists, Conflict, NotFound
from berth.platform.store import bulk, pg_writes
from berth.platform.store.columns import indexed_columns
from berth.platform.store.db_base import KEY, DatabaseBase, key_params
from berth.platform.store.encoded import encode_ahead
from berth.platform.store.prepared import Prepared
from berth.platform.store.tables import CHANGES, LABELS, OBJECTS, REVISION
from berth.platform.store.transactions import Savepoint, WriteTransaction

COMPACT_EVERY = 1000
ANALYZE_EVERY = 20_000

# The statements of every write, built once: building one per call (SQLAlchemy coercing each
# clause and computing its cache key) cost about as much CPU as SQLite running it.
# The ones every write sends run on the driver's cursor (``prepared``).
_NEXT_RV = Prepared(
    update(REVISION)
    .where(REVISION.c.id == 1)
    .values(current=REVISION.c.current + 1)
    .returning(REVISION.c.current)
)
_UPDATE = Prepared(update(OBJECTS).where(*KEY).returning(OBJECTS.c.id))
_UPDATE_AT = Prepared(
    update(OBJECTS).where(*KEY, OBJECTS.c.rv == bindparam("k_rv")).returning(OBJECTS.c.id)
)
_APPEND = Prepared(insert(CHANGES))
_INSERT = Prepared(insert(OBJECTS).returning(OBJECTS.c.id))
_LABEL = Prepared(insert(LABELS))
_LOCK_REVISION = select(REVISION.c.current).where(REVISION.c.id == 1).with_for_update()
_UNLABEL = Prepared(delete(LABELS).where(LABELS.c.object_id == bindparam("k_id")))

# Called inside a write's transaction, before anything is written; raises to refuse the write
# (a fencing check: ``lease.Fence``).
Guard = Callable[[object], None]  # (key, allowed values) or (key, None): exists


class DatabaseWrites(DatabaseBase):
    def create(self, resource: str, obj: dict, guard: Guard | None = None) -> dict:
        md = obj["metadata"]
        ns, name = md.get("namespace") or "", md["name"]
        # Encoded before the transaction: inside it, only the version is spliced in.
        ahead = encode_ahead(self.codec, resource, obj)
        try:
            with self._transaction() as conn:
                if ahead is not None and self._in_one_statement(guard):
                    rv = pg_writes.create(
                        conn, resource, ns, name, md["uid"], ahead, md.get("labels")
                    )
                    md["resourceVersion"] = str(rv)
                else:
                    rv = self._next_rv(conn, obj)
                    self._guard(conn, guard)
                    data = self.codec.encode(resource, obj) if ahead is None else ahead.at(rv)
                    ((object_id,),) = _INSERT.rows(
                        conn,
                        {
                            "resource": resource,
                            "namespace": ns,
                            "name": name,
                            "uid": md["uid"],
                            "rv": rv,
                            "data": data,
                            **(indexed_columns(resource, obj) if ahead is None else ahead.columns),
                        },
                    )
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
        ahead = encode_ahead(self.codec, resource, obj)  # as in ``create``
        with self._transaction() as conn:
            if ahead is not None and self._in_one_statement(guard):
                found = pg_writes.update(
                    conn, resource, ns, name, expected_rv, ahead, md.get("labels"), relabel
                )
                if found is None:
                    self._missing_or_stale(conn, resource, ns, name)
                rv = found
                md["resourceVersion"] = str(rv)
            else:
                rv = self._next_rv(conn, obj)
                self._guard(conn, guard)
                data = self.codec.encode(resource, obj) if ahead is None else ahead.at(rv)
                params = {
                    **key_params(resource, ns, name),
                    "rv": rv,
                    "data": data,
                    **(indexed_columns(resource, obj) if ahead is None else ahead.columns),
                }
                if expected_rv is not None:
                    params["k_rv"] = expected_rv
                rows = (_UPDATE if expected_rv is None else _UPDATE_AT).rows(conn, params)
                if not rows:
                    self._missing_or_stale(conn, resource, ns, name)
                if relabel:
                    _UNLABEL.rows(conn, {"k_id": rows[0][0]})
                    self._write_labels(conn, resource, rows[0][0], md.get("labels"))
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

    def _in_one_statement(self, guard: Guard | None) -> bool:
        """Whether a write may go as one statement (``pg_writes``): on PostgreSQL, with no
        guard left to run (a guard runs after the revision row's lock, in every write)."""
        if self.dialect.is_sqlite:
            return False
        if guard is None:
            return True
        batch = getattr(self._local, "batch", None)
        return batch is not None and guard in batch[2]

    def _next_rv(self, conn, obj: dict) -> int:
        ((rv,),) = _NEXT_RV.rows(conn)
        obj["metadata"]["resourceVersion"] = str(rv)
        return rv

    @staticmethod
    def _write_labels(conn, resource: str, object_id: int, labels: dict | None) -> None:
        if labels:
            _LABEL.run_many(
                conn,
                [
                    {"object_id": object_id, "resource": resource, "key": k, "value": v}
                    for k, v in labels.items()
                ],
            )

    @staticmethod
    def _append(conn, rv: int, resource: str, ns: str, name: str, kind: str, data: str) -> None:
        _APPEND.rows(
            conn,
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
