"""Leader leases in the store, and the fence that refuses a deposed leader's writes.

A lease row (``tables.LeaseRow``) names its holder and carries two counters: ``version`` grows
on every write (renewals included) and is what every change compares-and-sets on; ``token``
grows only when the holder changes, so it numbers the terms of leadership. This module only
reads and writes rows; deciding when to renew or take over is ``controllers.leader``'s job.

Fencing: a controller of term ``token`` writes through a ``FencedDatabase``. Each of its writes
re-reads the lease row inside the write's own transaction (on PostgreSQL with ``FOR SHARE``, so
a takeover waits for that transaction to commit, and a write that commits after a takeover
cannot exist); when the row names another holder or a later term, the write is refused with
``Fenced`` and nothing is written. SQLite has one writer at a time, so the read is enough.
A group commit (``FencedDatabase.batch``) reads the lease once, first, for all its writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from berth.platform.errors import AlreadyExists, Conflict
from berth.platform.resources.meta import rfc3339
from berth.platform.store.db import Database
from berth.platform.store.tables import LEASES


class Fenced(Conflict):
    """A write by a leader whose lease term has ended."""

    def __init__(self, lease: str, holder: str, token: int):
        super().__init__(
            "leases",
            lease,
            "coordination.k8s.io",
            detail=f"holder {holder!r} of term {token} no longer holds the lease",
        )


@dataclass(frozen=True)
class LeaseRecord:
    name: str
    holder: str  # "" once released
    token: int  # the term: grows when the holder changes
    version: int  # grows on every write
    duration_s: float
    acquired_at: str
    renewed_at: str


class LeaseStore:
    def __init__(self, db: Database):
        self.db = db

    def read(self, name: str) -> LeaseRecord | None:
        with self.db.reading() as conn:
            row = conn.execute(select(LEASES).where(LEASES.c.name == name)).first()
        return _record(row) if row else None

    def create(
        self, name: str, holder: str, duration_s: float, now: datetime
    ) -> LeaseRecord | None:
        """The first term of a lease that has no row yet; None when another got there first."""
        stamp = rfc3339(now)
        record = LeaseRecord(name, holder, 1, 1, duration_s, stamp, stamp)
        try:
            with self.db.transaction() as conn:
                conn.execute(insert(LEASES).values(**record.__dict__))
        except IntegrityError:
            return None
        return record

    def renew(self, seen: LeaseRecord, now: datetime) -> LeaseRecord | None:
        """Extend the holder's own term; None when the row changed since ``seen``."""
        return self._swap(
            seen,
            holder=seen.holder,
            token=seen.token,
            duration_s=seen.duration_s,
            acquired_at=seen.acquired_at,
            renewed_at=rfc3339(now),
        )

    def take(
        self, seen: LeaseRecord, holder: str, duration_s: float, now: datetime
    ) -> LeaseRecord | None:
        """Start a new term for ``holder``; None when the row changed since ``seen``."""
        stamp = rfc3339(now)
        return self._swap(
            seen,
            holder=holder,
            token=seen.token + 1,
            duration_s=duration_s,
            acquired_at=stamp,
            renewed_at=stamp,
        )

    def release(self, seen: LeaseRecord, now: datetime) -> LeaseRecord | None:
        """End the holder's term now (a clean stop): the next candidate need not wait."""
        return self._swap(
            seen,
            holder="",
            token=seen.token,
            duration_s=seen.duration_s,
            acquired_at=seen.acquired_at,
            renewed_at=rfc3339(now),
        )

    def _swap(self, seen: LeaseRecord, **values) -> LeaseRecord | None:
        with self.db.transaction() as conn:
            done = conn.execute(
                update(LEASES)
                .where(LEASES.c.name == seen.name, LEASES.c.version == seen.version)
                .values(version=seen.version + 1, **values)
            ).rowcount
        if done != 1:
            return None
        return LeaseRecord(
            seen.name,
            values["holder"],
            values["token"],
            seen.version + 1,
            values["duration_s"],
            values["acquired_at"],
            values["renewed_at"],
        )


@dataclass(frozen=True)
class Fence:
    """The guard of one term: called inside a write transaction, raises ``Fenced`` unless the
    lease still names this holder and term."""

    lease: str
    holder: str
    token: int

    def __call__(self, conn) -> None:
        row = conn.execute(
            select(LEASES.c.holder, LEASES.c.token)
            .where(LEASES.c.name == self.lease)
            .with_for_update(read=True)
        ).first()
        if row is None or row[0] != self.holder or row[1] != self.token:
            raise Fenced(self.lease, self.holder, self.token)


class FencedDatabase:
    """A ``Database`` whose object writes all pass one ``Fence``; reads go straight through.
    Give it to a ``Client`` to make every write of that client fenced."""

    def __init__(self, db: Database, fence: Fence):
        self._db = db
        self.fence = fence

    def __getattr__(self, attr):
        return getattr(self._db, attr)

    def batch(self):
        """A group commit (``Database.batch``) fenced once, at its start: a deposed leader's
        batch writes nothing; the writes inside do not read the lease again."""
        return self._db.batch(guard=self.fence)

    def create(self, resource: str, obj: dict) -> dict:
        return self._db.create(resource, obj, guard=self.fence)

    def create_many(self, resource: str, objs: list[dict]) -> list[dict | AlreadyExists]:
        return self._db.create_many(resource, objs, guard=self.fence)

    def update(
        self, resource: str, obj: dict, expected_rv: int | None, relabel: bool = True
    ) -> dict:
        return self._db.update(resource, obj, expected_rv, relabel=relabel, guard=self.fence)

    def delete(
        self,
        resource: str,
        namespace: str,
        name: str,
        expected_rv: int | None = None,
        expected_uid: str | None = None,
    ) -> dict:
        return self._db.delete(
            resource,
            namespace,
            name,
            expected_rv=expected_rv,
            expected_uid=expected_uid,
            guard=self.fence,
        )


def _record(row) -> LeaseRecord:
    return LeaseRecord(
        row.name,
        row.holder,
        row.token,
        row.version,
        row.duration_s,
        row.acquired_at,
        row.renewed_at,
    )
