"""The two ways a store write holds its transaction: alone (the dialect's write lock around
BEGIN ... COMMIT) or as one write of a group commit (a savepoint of the batch's transaction)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from berth.platform.errors import Conflict
from berth.platform.store.prepared import Prepared

if TYPE_CHECKING:
    from berth.platform.store.db_base import DatabaseBase


class WriteTransaction:
    """``with db._transaction() as conn``: the dialect's write lock plus BEGIN ... COMMIT."""

    def __init__(self, db: DatabaseBase):
        self.db = db

    def __enter__(self):
        self._lock = self.db.dialect.writing()
        self._lock.__enter__()
        try:
            self._conn = self.db.engine.connect()
            self.db.dialect.mark_write(self._conn)
            self._tx = self._conn.begin()
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        return self._conn

    def __exit__(self, exc_type, exc, tb):
        committed = False
        try:
            if exc_type is None:
                self._tx.commit()
                committed = True
            else:
                self._tx.rollback()
        except OperationalError as err:
            if self.db.dialect.is_retryable(err):
                raise Conflict("objects", "", detail="concurrent write; retry") from err
            raise
        finally:
            # Once committed, the connection holds nothing of the database's: it goes back
            # to the pool (a reset) after the lock, not inside it. Otherwise it is closed
            # first, so that a failed transaction is undone before the next writer starts.
            if not committed:
                self._conn.close()
            self._lock.__exit__(None, None, None)
            if committed:
                self._conn.close()
        if committed:
            self.db.dialect.committed()
        if (
            exc_type is not None
            and issubclass(exc_type, OperationalError)
            and self.db.dialect.is_retryable(exc)
        ):
            raise Conflict("objects", "", detail="concurrent write; retry") from exc
        return False


# Sent on the driver's cursor (``prepared``): SQLAlchemy's ``begin_nested`` and its commit
# cost about as much CPU as the write inside (11% of bench_controlplane's profile). One name
# serves every depth: SQLite and PostgreSQL both release and roll back to the newest
# savepoint of a name.
_SAVEPOINT = Prepared(text("SAVEPOINT berth_write"))
_RELEASE = Prepared(text("RELEASE SAVEPOINT berth_write"))
_ROLLBACK_TO = Prepared(text("ROLLBACK TO SAVEPOINT berth_write"))


class Savepoint:
    """One write inside ``Database.batch()``: a savepoint of the batch's transaction. A write
    that fails is undone alone; the batch's transaction goes on."""

    def __init__(self, conn):
        self._conn = conn

    def __enter__(self):
        _SAVEPOINT.rows(self._conn)
        return self._conn

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            _ROLLBACK_TO.rows(self._conn)
        _RELEASE.rows(self._conn)
        return False
