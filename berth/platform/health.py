"""Named health checks, as ``/healthz``, ``/livez`` and ``/readyz`` list them in Kubernetes.

Each check is a function returning ``(ok, message)``; the parts of the process add theirs as
they start (the controller side adds one per controller while this process leads) and remove
them when they stop, so ``kubectl get --raw '/readyz?verbose'`` says what runs here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

Check = Callable[[], "tuple[bool, str]"]


class HealthChecks:
    def __init__(self):
        self._checks: dict[str, Check] = {}
        self._lock = threading.Lock()

    def add(self, name: str, check: Check) -> None:
        with self._lock:
            self._checks[name] = check

    def remove(self, name: str) -> None:
        with self._lock:
            self._checks.pop(name, None)

    def names(self) -> list[str]:
        with self._lock:
            return list(self._checks)

    def run(
        self, only: str | None = None, exclude: tuple[str, ...] = ()
    ) -> list[tuple[str, bool, str]]:
        """``(name, ok, message)`` of each check (or of ``only``); a check that raises fails."""
        with self._lock:
            checks = [
                (n, c)
                for n, c in self._checks.items()
                if n not in exclude and (only is None or n == only)
            ]
        out = []
        for name, check in checks:
            try:
                ok, message = check()
            except Exception as exc:  # a check that cannot run has failed, with its reason
                ok, message = False, f"{type(exc).__name__}: {exc}"
            out.append((name, ok, message))
        return out
