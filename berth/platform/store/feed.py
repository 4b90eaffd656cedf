"""The change feed: tails the change log and hands changes to watchers in resourceVersion order.

One thread per process polls the log (woken at once by local commits; by the other processes'
commits through ``store.link`` (``berth up``'s two processes) or PostgreSQL's LISTEN/NOTIFY
(``pg_listen``); and every ``poll_interval`` as the safety net, slower while LISTEN is in
place) and keeps the newest changes in a bounded buffer, the way kube-apiserver's watch cache
does. Readers ask "changes after rv N": served from the buffer when it reaches back that far,
otherwise from the database (which raises ``Gone`` once the log is compacted past N). A change's
object is decoded when first read, once for all the readers in the process (``db.Change``).
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import threading

from sqlalchemy import Connection

from berth.platform.errors import Gone
from berth.platform.store.db import Change, Database
from berth.platform.store.pg_listen import SLOW_POLL_S, ChangeListener

log = logging.getLogger(__name__)


class ChangeFeed:
    """``pace``: the fewest seconds between two reads of the log. The wake-ups that come
    meanwhile (each commit of this process, each of another's) are read together, once the
    pace has passed: a reader then sees a change up to ``pace`` later."""

    def __init__(
        self,
        db: Database,
        poll_interval: float = 0.25,
        buffer_size: int = 20_000,
        pace: float = 0.0,
    ):
        self.db = db
        self.poll_interval = poll_interval
        self.pace = pace
        self._interval = poll_interval  # slower while PostgreSQL's LISTEN wakes the feed
        self._listener: ChangeListener | None = None
        self.buffer_size = buffer_size
        self._rvs: list[int] = []
        self._changes: list[Change] = []
        self._floor = db.current_rv()  # the buffer holds every change after this rv
        self._last = self._floor
        self._cond = threading.Condition()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._closing = threading.Event()
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._thread: threading.Thread | None = None
        db.on_commit.append(lambda _rv: self._wake.set())

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> ChangeFeed:
        self._thread = threading.Thread(target=self._run, name="change-feed", daemon=True)
        self._thread.start()
        if not self.db.dialect.is_sqlite:
            self._listener = ChangeListener(self.db.dialect, self.nudge, self._listening)
            self._listener.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._listener:
            self._listener.stop()
        if self._thread:
            self._thread.join(timeout=5)

    def close_watches(self) -> None:
        """End every watch stream now (the server is shutting down): waiting watches wake
        and return, so the HTTP server need not wait out its graceful-shutdown timeout."""
        self._closing.set()
        with self._cond:
            self._cond.notify_all()
            waiters = list(self._async_waiters)
        _wake_async(waiters)

    @property
    def closing(self) -> bool:
        return self._closing.is_set()

    @property
    def listening(self) -> bool:
        """PostgreSQL's LISTEN is in place: other processes' commits wake this feed."""
        return self._listener is not None and self._listener.listening.is_set()

    @property
    def last_rv(self) -> int:
        return self._last

    # -- reading --------------------------------------------------------------------------
    def since(self, rv: int, limit: int = 1000) -> list[Change]:
        """Changes with resourceVersion > rv, oldest first (raises ``Gone`` when compacted)."""
        buffered = self.buffered_since(rv, limit)
        return self.db.changes_since(rv, limit) if buffered is None else buffered

    def buffered_since(self, rv: int, limit: int = 1000) -> list[Change] | None:
        """``since`` from the buffer alone, without touching the database (safe to call
        from an event loop); None when the buffer does not reach back to ``rv``."""
        with self._cond:
            if rv >= self._floor:
                start = bisect.bisect_right(self._rvs, rv)
                return self._changes[start : start + limit]
        return None

    def wait(self, rv: int, timeout: float) -> list[Change]:
        """Block until there are changes after ``rv`` (or the timeout passes)."""
        with self._cond:
            if self._last <= rv:
                self._cond.wait_for(lambda: self._last > rv or self._stop.is_set(), timeout)
        return self.since(rv)

    async def wait_async(self, rv: int, timeout: float) -> None:
        """Return once the feed has moved past ``rv`` or after ``timeout`` seconds."""
        if self._last > rv:
            return
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        waiter = (loop, event)
        with self._cond:
            self._async_waiters.add(waiter)
        try:
            if self._last <= rv and not self.closing:
                await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            with self._cond:
                self._async_waiters.discard(waiter)

    def nudge(self) -> None:
        """Read the change log now: another process sharing the database has committed
        (``store.link``); without this its writes arrive at the next poll."""
        self._wake.set()

    def _listening(self, on: bool) -> None:
        """PostgreSQL's LISTEN is in place (poll slowly) or lost (poll at ``poll_interval``
        and read the log now: a notification may have been missed)."""
        self._interval = max(self.poll_interval, SLOW_POLL_S) if on else self.poll_interval
        if not on:
            self._wake.set()

    def refresh(self) -> None:
        """Pull anything committed so far into the buffer now (used by tests and start-up)."""
        self._poll()

    # -- the tailing thread ---------------------------------------------------------------
    def _run(self) -> None:
        # One connection for every poll of this thread, as a pooled one per poll cost more
        # CPU (checkout, reset, checkin) than the read; after an error, a fresh one.
        reader: Connection | None = None
        while not self._stop.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            try:
                reader = reader or self.db.reading()
                while self._poll(reader):
                    pass
            except Exception:  # a transient database error must not end the feed
                log.exception("change feed poll failed; retrying")
                reader = _closed(reader)
                self._stop.wait(1.0)
            if self.pace:
                self._stop.wait(self.pace)
        _closed(reader)

    def _poll(self, reader: Connection | None = None) -> bool:
        """Read one batch; True if the batch was full (more may be waiting)."""
        try:
            batch = self.db.changes_since(self._last, 2000, reader)
        except Gone:
            # We fell behind compaction (a very long stall): restart from the present.
            with self._cond:
                self._floor = self._last = self.db.current_rv()
                self._rvs.clear()
                self._changes.clear()
            return False
        if not batch:
            return False
        with self._cond:
            self._rvs.extend(c.rv for c in batch)
            self._changes.extend(batch)
            self._last = batch[-1].rv
            excess = len(self._changes) - self.buffer_size
            if excess > 0:
                self._floor = self._rvs[excess - 1]
                del self._rvs[:excess]
                del self._changes[:excess]
            self._cond.notify_all()
            waiters = list(self._async_waiters)
        _wake_async(waiters)
        return len(batch) == 2000


def _closed(reader: Connection | None) -> None:
    """Give ``reader`` back (a broken one is discarded by the pool); None."""
    if reader is not None:
        try:
            reader.close()
        except Exception:  # already broken: nothing more to give back
            log.debug("closing the change feed's connection failed", exc_info=True)
    return None


def _wake_async(waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]]) -> None:
    """Set each waiting watch's event on its own loop: one call into each loop (a write to
    its wake-up pipe), not one per watch."""
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Event]] = {}
    for loop, event in waiters:
        by_loop.setdefault(loop, []).append(event)
    for loop, events in by_loop.items():
        try:
            loop.call_soon_threadsafe(_set_all, events)
        except RuntimeError:
            pass  # that loop has closed: its watches are gone


def _set_all(events: list[asyncio.Event]) -> None:
    for event in events:
        event.set()
