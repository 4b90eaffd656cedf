"""The raw store: rows of objects, each write a compare-and-set that appends to the change log.

This layer knows nothing of kinds, defaults or validation (that is ``client.py``). It promises:
one global, strictly increasing ``resourceVersion``; a write either lands whole (object, labels,
change) or not at all; an update or delete with an expected ``resourceVersion`` that is stale
fails with ``Conflict``; the change log answers "what happened after rv N" until compaction,
after which it answers ``Gone``.
The reads and the change log are in ``db_reads``, the writes, group commit and compaction in
``db_writes``; ``Database`` puts them together with the schema's lifecycle.
"""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlmodel import SQLModel

from berth.platform.store.db_reads import SELECTIVE_IDS, Change, DatabaseReads, LabelTerm, Page
from berth.platform.store.db_writes import ANALYZE_EVERY, COMPACT_EVERY, DatabaseWrites, Guard
from berth.platform.store.tables import CHANGES, LABELS, LEASES, OBJECTS, REVISION

__all__ = [
    "ANALYZE_EVERY",
    "COMPACT_EVERY",
    "SELECTIVE_IDS",
    "Change",
    "Database",
    "Guard",
    "LabelTerm",
    "Page",
]


class Database(DatabaseWrites, DatabaseReads):
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
                self.dialect.install_announce(conn)
        self.dialect.refresh_statistics(self.engine)

    def close(self) -> None:
        self.engine.dispose()
        self.dialect.close()
