"""Every difference between SQLite and PostgreSQL lives here.

- SQLite: one file in WAL mode, one writer at a time (``WriterLock``: a thread lock, so threads
  never meet ``database is locked``, and an ``flock`` beside the file, so the processes sharing
  it queue in the kernel instead of in SQLite's busy handler), ``synchronous=NORMAL`` (durable
  across process crashes, which is what a control plane restart needs), and the WAL's
  checkpoints run on a thread of their own (``checkpoint``), not inside a writer's commit.
- PostgreSQL: commits as SQLite's ``synchronous=NORMAL`` does (``pg_session``): durable across
  the crash of any Berth process, the server's WAL writer puts them on disk within a fraction of
  a second instead of each commit waiting for its own fsync. Many writers; the ``revision`` row
  is updated first in every write transaction, so its row lock orders commits by
  resourceVersion and a watcher never sees rv N+1 before N.
  Lists read at REPEATABLE READ so items and the list's resourceVersion agree. A statement
  that appends to the change log sends ``NOTIFY berth_changes`` from a trigger on it
  (``install_announce``), delivered at the commit, once per transaction, to the other
  processes' feeds (``pg_listen``): no statement of its own, no round trip.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from sqlalchemy import Connection, Engine, create_engine, event, func, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from berth.platform.store import pg_session
from berth.platform.store.checkpoint import BACKSTOP_PAGES, Checkpointer
from berth.platform.store.prepared import Prepared

# The channel of the change log's trigger and ``pg_listen``; the payload is the writer's schema.
CHANGE_CHANNEL = "berth_changes"
# In the schema of the tables (the first of the search path), as they are. PostgreSQL folds
# identical notifications of one transaction into one and drops those of a rolled-back
# savepoint. The advisory lock keeps two processes migrating at once from failing with
# "tuple concurrently updated".
_INSTALL_ANNOUNCE = (
    "SELECT pg_advisory_xact_lock(hashtext(current_schema()))",
    "CREATE OR REPLACE FUNCTION berth_announce() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN PERFORM pg_notify('{CHANGE_CHANNEL}', current_schema()); RETURN NULL; END $$",
    "CREATE OR REPLACE TRIGGER berth_announce AFTER INSERT ON changes "
    "FOR EACH STATEMENT EXECUTE FUNCTION berth_announce()",
)


# The execution option of a SQLite connection for one read statement: no BEGIN is sent.
_NO_BEGIN = "berth_no_begin"
# On the driver's cursor (``prepared``): through ``exec_driver_sql`` a BEGIN cost more CPU
# than the write after it.
_BEGIN = {sql: Prepared(text(sql)) for sql in ("BEGIN", "BEGIN IMMEDIATE")}


class Dialect:
    def __init__(self, url: str):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        path = _sqlite_file(url) if self.is_sqlite else None
        self._write_lock = WriterLock(path) if self.is_sqlite else None
        self._checkpointer = Checkpointer(path) if path else None

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
        return pg_session.configure(create_engine(self.url, pool_size=10, max_overflow=20))

    def test_engine(self) -> Engine:
        """An engine without pooling, for one-off administrative connections."""
        return create_engine(self.url, poolclass=NullPool)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Held around every write transaction (a no-op where the database orders writers)."""
        with self._write_lock.held() if self._write_lock else nullcontext():
            yield

    def committed(self) -> None:
        """Call after each write transaction commits (SQLite: a WAL checkpoint follows)."""
        if self._checkpointer:
            self._checkpointer.committed()

    def close(self) -> None:
        """Let go of what ``writing`` holds open (the SQLite lock file) and stop the
        checkpoints."""
        if self._checkpointer:
            self._checkpointer.close()
        if self._write_lock:
            self._write_lock.close()

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

    def read_options(self) -> dict:
        """For a read of one statement: outside a transaction (the statement is its own
        snapshot). On PostgreSQL in autocommit, which spares the BEGIN and the ROLLBACK, two
        round trips of three; on SQLite without the BEGIN (``_sqlite_begin_deferred``), which
        spares a statement sent through SQLAlchemy (a get: 67-73 against 74-84 us of CPU)."""
        return {_NO_BEGIN: True} if self.is_sqlite else {"isolation_level": "AUTOCOMMIT"}

    def mark_write(self, conn: Connection) -> None:
        """Call before ``conn.begin()`` of a write transaction."""
        if self.is_sqlite:
            # Take the write lock at BEGIN, not at the first write, so two processes sharing a
            # file wait for each other instead of failing with SQLITE_BUSY mid-transaction.
            conn.info["berth_begin"] = "BEGIN IMMEDIATE"

    def install_announce(self, conn: Connection) -> None:
        """In the migration's transaction: make every append to the change log notify
        ``CHANGE_CHANNEL`` (PostgreSQL; SQLite processes are told through ``store.link``)."""
        if not self.is_sqlite:
            for statement in _INSTALL_ANNOUNCE:
                conn.exec_driver_sql(statement)


class WriterLock:
    """One SQLite writer at a time: this process's threads queue on a thread lock, processes
    on an exclusive ``flock`` of ``<database>.writer-lock``.

    Without the file lock, a process that found the database locked by another (berth up's
    API process and its controller process share one file) waited in SQLite's busy handler,
    which sleeps in steps of up to 100 ms and so wakes long after the lock is free: a Job
    POST waited 121 ms at the median (mean 237 ms) while the controllers wrote in group
    commits. A waiter on ``flock`` is woken by the kernel as the holder lets go; the lock
    goes with a process that dies. BEGIN IMMEDIATE still takes SQLite's own lock after it,
    so a writer that does not use this lock (another tool) is still kept out."""

    def __init__(self, path: str | None):
        self._threads = threading.Lock()
        self._path = f"{path}.writer-lock" if path else None
        self._fd: int | None = None

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._threads:
            fd = self._file()
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._threads:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def _file(self) -> int | None:
        if self._fd is None and self._path is not None:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return self._fd


def _sqlite_file(url: str) -> str | None:
    """The database file of a SQLite URL; None for an in-memory database."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return os.path.abspath(database)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's implicit BEGIN is off).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA cache_size=-65536")
    cur.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
    cur.close()


def _sqlite_begin_deferred(conn: Connection) -> None:
    if conn.get_execution_options().get(_NO_BEGIN):
        # A read of one statement: SQLite runs it in a transaction of its own.
        return
    _BEGIN[conn.info.pop("berth_begin", "BEGIN")].rows(conn)
