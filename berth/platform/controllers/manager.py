"""Runs reconcilers: each has a work queue of keys and worker threads calling ``reconcile``.

A reconciler is level-triggered and idempotent: ``reconcile(key)`` reads current state, makes
the changes, and returns seconds until it wants to look again (or None). An exception is a
transient failure: the key is retried with backoff. Permanent failures are the reconciler's to
record (a condition, an Event) before returning normally.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from typing import Any, Protocol

from berth.platform.cache.informers import InformerHub
from berth.platform.cache.workqueue import WorkQueue
from berth.platform.errors import AlreadyExists, Conflict, NotFound

log = logging.getLogger(__name__)


class Enqueue(Protocol):
    def __call__(self, key: Hashable, delay: float = 0.0) -> None:
        """Queue ``key`` now, or ``delay`` seconds from now (a key already queued or due
        sooner is processed once)."""


class Reconciler(Protocol):
    name: str

    def setup(self, hub: InformerHub, enqueue: Enqueue) -> None:
        """Register the informers and handlers that map changes to keys."""

    # Any: each reconciler picks its own key type (a (namespace, name) pair, a tagged tuple).
    def reconcile(self, key: Any, /) -> float | None:
        """Make the world match the objects for ``key``; return a requeue delay or None."""


# Optional, on a reconciler: ``start()`` / ``stop()`` (called with the runner's),
# ``health() -> (ok, message)`` for the health checks (``/readyz?verbose``), and
# ``reconcile_many(keys) -> {key: delay | None | Exception}``: the runner then hands each worker
# up to ``BATCH`` ready keys at once (a group commit across them: one transaction for many
# keys); a key whose outcome is an Exception is retried with backoff, as when ``reconcile``
# raises, and an exception out of ``reconcile_many`` itself retries them all.
BATCH = 32
Outcome = float | None | Exception


class _Runner:
    def __init__(self, reconciler: Reconciler, workers: int):
        self.reconciler = reconciler
        self.queue = WorkQueue()
        self.workers = workers
        self.threads: list[threading.Thread] = []

    def health(self) -> tuple[bool, str]:
        alive = sum(thread.is_alive() for thread in self.threads)
        if alive < self.workers:
            return False, f"{alive} of {self.workers} workers running"
        check = getattr(self.reconciler, "health", None)
        return check() if check else (True, f"{alive} workers")

    def start(self) -> None:
        hook = getattr(self.reconciler, "start", None)
        if hook:
            hook()
        for i in range(self.workers):
            thread = threading.Thread(
                target=self._work, daemon=True, name=f"{self.reconciler.name}-{i}"
            )
            thread.start()
            self.threads.append(thread)

    def _work(self) -> None:
        many: Callable[[list[Any]], dict[Any, Outcome]] | None = getattr(
            self.reconciler, "reconcile_many", None
        )
        while True:
            keys = self.queue.get_many(BATCH) if many is not None else self.queue.get_many(1)
            if not keys:
                return
            try:
                outcomes = many(keys) if many is not None else self._one(keys[0])
                for key in keys:
                    self._settle(key, outcomes.get(key))
            except Exception as exc:
                for key in keys:
                    self._settle(key, exc)
            finally:
                for key in keys:
                    self.queue.done(key)

    def _one(self, key: Any) -> dict[Any, Outcome]:
        try:
            return {key: self.reconciler.reconcile(key)}
        except Exception as exc:
            return {key: exc}

    def _settle(self, key: Any, outcome: Outcome) -> None:
        if isinstance(outcome, Exception):
            log.warning(
                "%s: reconcile %s failed (%s); retrying",
                self.reconciler.name,
                key,
                outcome,
                exc_info=outcome if not _expected(outcome) else False,
            )
            self.queue.retry(key)
            return
        self.queue.forget(key)
        if outcome is not None:
            self.queue.add_after(key, outcome)


def _expected(exc: Exception) -> bool:
    """Races every controller meets in normal operation: not worth a traceback in the log."""
    return isinstance(exc, (Conflict, NotFound, AlreadyExists))


class ControllerManager:
    def __init__(self, hub: InformerHub):
        self.hub = hub
        self._runners: list[_Runner] = []

    def add(self, reconciler: Reconciler, workers: int = 1) -> WorkQueue:
        runner = _Runner(reconciler, workers)
        reconciler.setup(self.hub, runner.queue.add_after)
        self._runners.append(runner)
        return runner.queue

    def start(self) -> None:
        for runner in self._runners:
            runner.start()

    def checks(self) -> dict[str, Callable[[], tuple[bool, str]]]:
        """Per reconciler name, its health check: whether it runs, and a word on it."""
        return {runner.reconciler.name: runner.health for runner in self._runners}

    def stop(self) -> None:
        for runner in self._runners:
            runner.queue.shutdown()
            hook = getattr(runner.reconciler, "stop", None)
            if hook:
                hook()
        for runner in self._runners:
            for thread in runner.threads:
                thread.join(timeout=5)
