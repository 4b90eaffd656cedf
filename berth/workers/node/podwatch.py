"""One thread that makes the periodic checks of every pod a node agent runs itself.

A pod's runner checks, every ``interval``, whether it was asked to stop, whether its
``activeDeadlineSeconds`` passed and whether an ``emptyDir`` outgrew its ``sizeLimit``
(``PodRunner.check``). Run in a pod task, the runner makes them on a thread of its own while
another runs the containers; in the agent's own process, where one thread per pod already
runs the containers, this one thread checks every pod instead of a second thread each.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

log = logging.getLogger(__name__)


class Checked(Protocol):
    def check(self) -> None: ...


class PodWatch:
    """Started on first use; sleeps while it has nothing to check."""

    def __init__(self, interval: float):
        self.interval = interval
        self._watched: set[Checked] = set()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, runner: Checked) -> None:
        with self._changed:
            self._watched.add(runner)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="pod-watch", daemon=True)
                self._thread.start()
            self._changed.notify()

    def remove(self, runner: Checked) -> None:
        with self._changed:
            self._watched.discard(runner)

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._watched)
            time.sleep(self.interval)  # a runner is first checked within one interval
            with self._changed:
                watched = list(self._watched)
            for runner in watched:
                try:
                    runner.check()
                except Exception:  # one pod's failed check must not end every pod's
                    log.exception("periodic check of a pod failed")
