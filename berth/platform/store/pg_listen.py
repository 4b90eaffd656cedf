"""PostgreSQL's LISTEN/NOTIFY as the change feed's wake-up between processes.

The processes of a cluster deployment (API replicas, the controller process) share one
PostgreSQL and nothing else: without this, each learns of another's commits only at its next
poll of the change log (``ChangeFeed.poll_interval``). Every write transaction that appends to
the change log also sends a notification (a trigger on the log: ``Dialect.install_announce``)
that PostgreSQL delivers at its commit, once per transaction however many writes it holds.
Each process keeps one connection LISTENing here and wakes its feed on each notification; the
feed then reads the change log as it always does, so the order and content of what watchers
see is the store's, never this channel's. The payload is the writer's schema: deployments that
share a database in schemas of their own (the tests do) do not wake each other.

The poll stays as the safety net: while listening, the feed polls slowly (``SLOW_POLL_S``);
when the connection drops, the feed goes back to polling at its own interval and reads the log
once, and the listener reconnects after ``RETRY_S``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from sqlalchemy.exc import SQLAlchemyError

from berth.platform.store.dialect import CHANGE_CHANNEL, Dialect

log = logging.getLogger(__name__)

SLOW_POLL_S = 5.0
RETRY_S = 1.0
# How long one wait for notifications lasts: how soon ``stop`` is noticed.
_WAIT_S = 0.5


class ChangeListener:
    """``on_notify()``: another process (or this one) committed changes. ``on_listening(True)``
    once LISTEN is in place, ``on_listening(False)`` when the connection is lost; both are
    called on the listener's own thread."""

    def __init__(
        self,
        dialect: Dialect,
        on_notify: Callable[[], None],
        on_listening: Callable[[bool], None],
    ):
        if dialect.is_sqlite:
            raise ValueError("LISTEN/NOTIFY needs PostgreSQL; SQLite processes share a link")
        self.dialect = dialect
        self.on_notify = on_notify
        self.on_listening = on_listening
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()
        self.backend_pid: int | None = None  # the listening connection's server process

    def start(self) -> ChangeListener:
        self._thread = threading.Thread(target=self._run, name="change-listener", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except (
                psycopg.Error,
                SQLAlchemyError,
                OSError,
            ) as exc:  # SQLAlchemy wraps a failed connect
                if self._stop.is_set():
                    return
                log.warning("LISTEN for store changes failed (%s); polling until it is back", exc)
                self.listening.clear()
                self.on_listening(False)
                self._stop.wait(RETRY_S)

    def _listen(self) -> None:
        engine = self.dialect.test_engine()
        try:
            raw = engine.raw_connection()
            try:
                conn = raw.driver_connection
                if not isinstance(conn, psycopg.Connection):
                    raise TypeError(f"expected a psycopg connection, got {type(conn).__name__}")
                conn.autocommit = True
                row = conn.execute("SELECT current_schema()").fetchone()
                schema = row[0] if row else ""
                conn.execute(f"LISTEN {CHANGE_CHANNEL}")
                self.backend_pid = conn.info.backend_pid
                self.listening.set()
                self.on_listening(True)
                self.on_notify()  # whatever was committed while no one listened
                while not self._stop.is_set():
                    for note in conn.notifies(timeout=_WAIT_S):
                        if note.payload == schema:
                            self.on_notify()  # sets an event: the feed coalesces wake-ups
            finally:
                raw.close()
        finally:
            engine.dispose()
