"""Every difference between SQLite and PostgreSQL lives here.

- SQLite: one file in WAL mode, one writer at a time (a process lock, so threads never meet
  ``database is locked``), ``synchronous=NORMAL`` (durable across process crashes, which is what
  a control plane restart needs).
- PostgreSQL: many writers; the ``revision`` row is updated first in every write transaction,
  so its row lock orders commits by resourceVersion and a watcher never sees rv N+1 before N.
  Lists read at REPEATABLE READ so items and the list's resourceVersion agree. A write
  transaction that appends to the change log sends ``NOTIFY berth_changes`` with it
  (``announce``), delivered at its commit to the other processes' feeds (``pg_listen``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from sqlalchemy import Connection, Engine, create_engine, event, func, text
from sqlalchemy.pool import NullPool

# The channel of ``announce`` and ``pg_listen``; the payload is the writer's schema.
CHANGE_CHANNEL = "berth_changes"
_ANNOUNCE = text(f"SELECT pg_notify('{CHANGE_CHANNEL}', current_schema())")


class Dialect:
    def __init__(self, url: str):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._write_lock = threading.Lock() if self.is_sqlite else None

    def engine(self) -> Engine:
        if self.is_sqlite:
            engine = create_engine(
                self.url,
                connect_args={"check_same_thread": False, "timeout": 30},
                pool_size=8,
                max_overflow=16,
            )
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin_deferred)
            return engine
        return create_engine(self.url, pool_size=10, max_overflow=20, pool_pre_ping=True)

    def test_engine(self) -> Engine:
        """An engine without pooling, for one-off administrative connections."""
        return create_engine(self.url, poolclass=NullPool)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Held around every write transaction (a no-op where the database orders writers)."""
        with self._write_lock if self._write_lock else nullcontext():
            yield

    def greatest(self, *args):
        return func.max(*args) if self.is_sqlite else func.greatest(*args)

    def is_retryable(self, err: Exception) -> bool:
        """A write that lost a race (deadlock, serialization failure, busy database) and is
        safe to try again."""
        code = getattr(getattr(err, "orig", None), "sqlstate", None)
        if code in ("40P01", "40001"):
            return True
        return self.is_sqlite and "database is locked" in str(err)

    def refresh_statistics(self, engine: Engine) -> None:
        """PostgreSQL plans label-selector lists well only with fresh table statistics, and
        autovacuum may be off; SQLite needs nothing here."""
        if self.is_sqlite:
            return
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE objects, labels")

    def snapshot_options(self) -> dict:
        return {} if self.is_sqlite else {"isolation_level": "REPEATABLE READ"}

    def mark_write(self, conn: Connection) -> None:
        """Call before ``conn.begin()`` of a write transaction."""
        if self.is_sqlite:
            # Take the write lock at BEGIN, not at the first write, so two processes sharing a
            # file wait for each other instead of failing with SQLITE_BUSY mid-transaction.
            conn.info["berth_begin"] = "BEGIN IMMEDIATE"

    def will_announce(self, conn: Connection) -> None:
        """The write transaction on ``conn`` appends to the change log: ``announce`` it."""
        if not self.is_sqlite:
            conn.info["berth_announce"] = True

    def announce(self, conn: Connection) -> None:
        """Just before the commit of a write transaction: if it appended to the change log,
        tell the processes listening on PostgreSQL (delivered at the commit, once per
        transaction; a rolled-back one may leave the mark for the connection's next
        transaction: one spare wake-up). SQLite processes are told through ``store.link``."""
        if conn.info.pop("berth_announce", False):
            conn.execute(_ANNOUNCE)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's implicit BEGIN is off).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA cache_size=-65536")
    cur.close()


def _sqlite_begin_deferred(conn: Connection) -> None:
    conn.exec_driver_sql(conn.info.pop("berth_begin", "BEGIN"))
