"""How Berth's pooled PostgreSQL connections are set up: asynchronous commit, and a check of a
connection that sat idle before it is handed out.

Asynchronous commit, unless whoever runs the database asked otherwise for this database, role
or connection (``ALTER DATABASE ... SET synchronous_commit``, ``options=-csynchronous_commit``
in the URL): the server's own default and configuration file are overridden. A commit still
becomes visible, in resourceVersion order, only once it is in the WAL; what it gives up is the
fsync before the client hears of it: a crash of the PostgreSQL server (not of Berth) can lose
the last commits (at most 3 x ``wal_writer_delay``), never a part of one, never one without
those before it, as a power cut loses SQLite's last commits in WAL mode with
``synchronous=NORMAL``. Each commit waiting for its own fsync, while it held the revision row
that orders all writers, made a PostgreSQL write three times slower than a SQLite one (store
micro-benchmark: 10.7 ms against 3.6 ms per create).

The check replaces SQLAlchemy's ``pool_pre_ping``, which sent a ``SELECT 1`` at every checkout:
a round trip more for every read and every write. A connection used less than ``PING_IDLE_S``
ago is handed out as it is (a server restart that broke it since fails that one statement, and
SQLAlchemy then replaces the pool's connections); one idle longer is pinged first, and one that
fails is replaced before anyone uses it.
"""

from __future__ import annotations

import time

from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError

PING_IDLE_S = 1.0

_ASYNC_COMMIT = (
    "SELECT set_config('synchronous_commit', 'off', false) FROM pg_settings "
    "WHERE name = 'synchronous_commit' AND source IN ('default', 'configuration file')"
)
_USED = "berth_used"  # in a pooled connection's ``info``: when it was last given back


def configure(engine: Engine) -> Engine:
    event.listen(engine, "connect", _session)
    event.listen(engine, "checkout", _ping_if_idle(engine))
    event.listen(engine, "checkin", _given_back)
    return engine


def _session(dbapi_conn, record) -> None:
    with dbapi_conn.cursor() as cur:
        cur.execute(_ASYNC_COMMIT)
    dbapi_conn.commit()  # a session setting made in a transaction lasts only if it commits
    record.info[_USED] = time.monotonic()


def _ping_if_idle(engine: Engine):
    def checkout(dbapi_conn, record, _proxy) -> None:
        if time.monotonic() - record.info.get(_USED, 0.0) < PING_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # any failure: the pool replaces this connection
            raise DisconnectionError(f"idle connection failed its ping: {exc}") from exc
        record.info[_USED] = time.monotonic()

    return checkout


def _given_back(_dbapi_conn, record) -> None:
    if record is not None:
        record.info[_USED] = time.monotonic()
