"""A work queue of keys: de-duplicated, delayed re-adds, per-key retry backoff.

Like client-go's rate-limited work queue: a key is never processed by two workers at once; a
key added while it is being processed is processed again afterwards; ``add_after`` schedules a
key for later (the "requeue after N" of a reconcile); ``retry`` backs off exponentially per key
until ``forget``.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable

from berth.platform.backoff import exponential


class WorkQueue:
    def __init__(
        self,
        base_delay: float = 0.05,
        max_delay: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._queue: deque[Hashable] = deque()
        self._queued: set[Hashable] = set()
        self._processing: set[Hashable] = set()
        self._dirty: set[Hashable] = set()
        self._delayed: list[tuple[float, int, Hashable]] = []
        self._failures: dict[Hashable, int] = {}
        self._seq = 0
        self._cond = threading.Condition()
        self._shutdown = False
        self._base, self._max = base_delay, max_delay
        self._clock = clock

    def add(self, key: Hashable) -> None:
        with self._cond:
            if key in self._processing:
                self._dirty.add(key)
                return
            if key not in self._queued:
                self._queued.add(key)
                self._queue.append(key)
                self._cond.notify()

    def add_after(self, key: Hashable, delay: float = 0.0) -> None:
        if delay <= 0:
            self.add(key)
            return
        with self._cond:
            self._seq += 1
            heapq.heappush(self._delayed, (self._clock() + delay, self._seq, key))
            self._cond.notify()

    def retry(self, key: Hashable) -> None:
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        self.add_after(key, exponential(failures + 1, self._base, self._max))

    def forget(self, key: Hashable) -> None:
        self._failures.pop(key, None)

    def get(self, timeout: float | None = None) -> Hashable | None:
        """The next key to process (None on shutdown or timeout); call ``done`` after."""
        keys = self.get_many(1, timeout)
        return keys[0] if keys else None

    def get_many(self, limit: int, timeout: float | None = None) -> list[Hashable]:
        """Up to ``limit`` keys ready now, in queue order, waiting only for the first (empty on
        shutdown or timeout); call ``done`` for each after. A batch never waits to fill up:
        under light load it is one key, as ``get`` gives."""
        deadline = None if timeout is None else self._clock() + timeout
        with self._cond:
            while True:
                if self._shutdown:
                    return []
                self._promote_due()
                if self._queue:
                    taken: list[Hashable] = []
                    while self._queue and len(taken) < max(1, limit):
                        key = self._queue.popleft()
                        self._queued.discard(key)
                        self._processing.add(key)
                        taken.append(key)
                    return taken
                wait = None
                if self._delayed:
                    wait = max(0.0, self._delayed[0][0] - self._clock())
                if deadline is not None:
                    left = deadline - self._clock()
                    if left <= 0:
                        return []
                    wait = left if wait is None else min(wait, left)
                self._cond.wait(wait)

    def done(self, key: Hashable) -> None:
        with self._cond:
            self._processing.discard(key)
            if key in self._dirty:
                self._dirty.discard(key)
                if key not in self._queued:
                    self._queued.add(key)
                    self._queue.append(key)
                    self._cond.notify()

    def shutdown(self) -> None:
        with self._cond:
            self._shutdown = True
            self._cond.notify_all()

    def __len__(self) -> int:
        return len(self._queue)

    def _promote_due(self) -> None:
        now = self._clock()
        while self._delayed and self._delayed[0][0] <= now:
            _, _, key = heapq.heappop(self._delayed)
            if key in self._processing:
                self._dirty.add(key)
            elif key not in self._queued:
                self._queued.add(key)
                self._queue.append(key)
