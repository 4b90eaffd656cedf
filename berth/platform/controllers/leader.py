"""Leader election over a lease in the store (client-go's ``leaderelection``, one lease).

Every process that could run controllers is a candidate. Each ``retry_period_s`` a candidate
reads the lease; it takes the lease when nobody holds it, when the holder released it, when the
holder is a process on this host that no longer exists, or when the lease has not changed for
``duration_s`` by the candidate's *own* monotonic clock since it first saw that version (as in
client-go: no comparison of clocks between hosts). The holder renews every ``retry_period_s``;
when a renewal finds the row changed it has lost at once, and when renewals fail (the store
unreachable) it steps down ``renew_deadline_s`` after the last one that worked, before any other
candidate may take over (``renew_deadline_s`` < ``duration_s``).

Winning starts a term: ``on_started(fence)`` gets the term's ``Fence``, which refuses the
term's writes once another term began (``store.lease``); losing calls ``on_stopped()``. The
callbacks run on their own thread, one at a time, in order, so a slow start (Ray) never
delays a renewal.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from berth.platform.resources.meta import utcnow
from berth.platform.store.lease import Fence, LeaseRecord, LeaseStore

log = logging.getLogger(__name__)

CONTROLLERS_LEASE = "berth-controller-manager"


def new_identity() -> str:
    """``host/pid/random``: unique per process; host and pid let a candidate on the same host
    see that a holder has died."""
    return f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"


def holder_gone(holder: str) -> bool:
    """Whether ``holder`` names a process on this host that no longer runs."""
    host, _, rest = holder.partition("/")
    pid = rest.partition("/")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass(frozen=True)
class LeaseTiming:
    duration_s: float = 5.0
    renew_deadline_s: float = 3.0
    retry_period_s: float = 1.0


@dataclass(frozen=True)
class LeaderState:
    leading: bool
    holder: str  # who holds the lease as last seen ("" when nobody does or unknown)
    token: int  # the term this process leads (0 when it does not)


class LeaderElector:
    def __init__(
        self,
        leases: LeaseStore,
        identity: str,
        *,
        on_started: Callable[[Fence], None],
        on_stopped: Callable[[], None],
        name: str = CONTROLLERS_LEASE,
        timing: LeaseTiming = LeaseTiming(),
        monotonic: Callable[[], float] = time.monotonic,
        wallclock: Callable[[], datetime] = utcnow,
        is_gone: Callable[[str], bool] = holder_gone,
    ):
        self.leases, self.identity, self.name, self.timing = leases, identity, name, timing
        self._on_started, self._on_stopped = on_started, on_stopped
        self._mono, self._wall, self._is_gone = monotonic, wallclock, is_gone
        self._held: LeaseRecord | None = None
        self._last_renew = 0.0
        self._seen: LeaseRecord | None = None
        self._seen_at = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._events: queue.Queue = queue.Queue()
        self._callbacks: threading.Thread | None = None

    # -- what the rest of the process asks --------------------------------------------------
    def state(self) -> LeaderState:
        with self._lock:
            if self._held is not None:
                return LeaderState(True, self.identity, self._held.token)
            return LeaderState(False, self._seen.holder if self._seen else "", 0)

    # -- one round: the whole policy, driven by the injected clocks ---------------------------
    def step(self) -> None:
        """Renew the lease when held, else try to take it. Callbacks are queued, not run."""
        now = self._mono()
        if self._held is not None:
            self._renew(self._held, now)
            return
        try:
            record = self.leases.read(self.name)
            if record is None:
                won = self.leases.create(
                    self.name, self.identity, self.timing.duration_s, self._wall()
                )
            else:
                won = self._try_take(record, now)
        except Exception as exc:  # the store is unreachable: stay a candidate
            log.warning("leader election: cannot read lease %s (%s)", self.name, exc)
            return
        if won is not None:
            self._win(won, now)

    def _try_take(self, record: LeaseRecord, now: float) -> LeaseRecord | None:
        if self._seen is None or self._seen.version != record.version:
            self._seen, self._seen_at = record, now
        free = (
            not record.holder
            or record.holder == self.identity
            or self._is_gone(record.holder)
            or now - self._seen_at >= record.duration_s
        )
        if not free:
            return None
        return self.leases.take(record, self.identity, self.timing.duration_s, self._wall())

    def _renew(self, held: LeaseRecord, now: float) -> None:
        try:
            renewed = self.leases.renew(held, self._wall())
        except Exception as exc:
            log.warning("leader election: renewing lease %s failed (%s)", self.name, exc)
            if now - self._last_renew >= self.timing.renew_deadline_s:
                self._lose("no renewal within the renew deadline")
            return
        if renewed is None:
            self._lose("the lease was taken over")
            return
        with self._lock:
            self._held = renewed
        self._last_renew = now

    def _win(self, record: LeaseRecord, now: float) -> None:
        with self._lock:
            self._held = record
        self._seen, self._seen_at, self._last_renew = record, now, now
        log.info("leader election: %s leads %s (term %d)", self.identity, self.name, record.token)
        self._events.put(("start", Fence(self.name, self.identity, record.token)))

    def _lose(self, why: str) -> None:
        log.warning("leader election: %s lost %s: %s", self.identity, self.name, why)
        with self._lock:
            self._held = None
        self._seen = None
        self._events.put(("stop", None))

    # -- threads ----------------------------------------------------------------------------
    def start(self) -> LeaderElector:
        """Take part in the election: the first round runs now, in the caller's thread (so a
        lone process leads before ``start`` returns); its callbacks run on the callback thread."""
        self._callbacks = threading.Thread(
            target=self._run_callbacks, daemon=True, name="leader-callbacks"
        )
        self._callbacks.start()
        self.step()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="leader-election")
        self._thread.start()
        return self

    def wait_settled(self, timeout: float | None = None) -> None:
        """Block until the callbacks queued so far have run."""
        done = threading.Event()
        self._events.put(("mark", done))
        done.wait(timeout)

    def _loop(self) -> None:
        while not self._stop.wait(self.timing.retry_period_s):
            self.step()

    def run_queued_callbacks(self) -> None:
        """Run the callbacks queued so far in the calling thread: for a caller that drives
        ``step`` itself instead of ``start`` (tests)."""
        while not self._events.empty():
            self._dispatch(*self._events.get())

    def _run_callbacks(self) -> None:
        while self._dispatch(*self._events.get()):
            pass

    def _dispatch(self, kind: str, arg) -> bool:
        """Run one queued callback; False for the end of the queue."""
        try:
            if kind == "start":
                self._on_started(arg)
            elif kind == "stop":
                self._on_stopped()
            elif kind == "mark":
                arg.set()
            else:
                return False
        except Exception:
            log.exception("leader election: %s callback failed", kind)
        return True

    def stop(self) -> None:
        """Leave the election: controllers stop first, then the lease is released so that
        another process takes over at once."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        held = self._held
        if held is not None:
            with self._lock:
                self._held = None
            self._events.put(("stop", None))
        self.wait_settled(timeout=30)
        self._events.put(("exit", None))
        if held is not None:
            try:
                self.leases.release(held, self._wall())
            except Exception as exc:
                log.warning("leader election: releasing lease %s failed (%s)", self.name, exc)
