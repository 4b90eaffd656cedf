"""Threads for the pods a node agent runs itself, reused from one pod to the next.

Each such pod needs a thread for as long as it runs (it waits for its container, sleeps
through restart back-offs). Starting a thread for every pod and letting it end costs the
thread's creation, its stack's mapping and unmapping and the start-up hand-off each time;
here a call goes to an idle thread when there is one, and to a new thread only when every
thread is busy, so no call ever waits for another to finish. A thread idle for ``idle_s``
ends. Daemon threads, as the per-pod threads were: a pod never holds its process's exit.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable


class ThreadReuse:
    def __init__(self, name: str, idle_s: float = 60.0):
        self.name, self.idle_s = name, idle_s
        self._work: queue.SimpleQueue[Callable[[], object]] = queue.SimpleQueue()
        self._idle = 0  # threads waiting for work that no call has claimed yet
        self._lock = threading.Lock()
        self._started = 0

    def run(self, call: Callable[[], object]) -> None:
        """Run ``call`` on a thread of its own now."""
        with self._lock:
            if self._idle:
                self._idle -= 1  # that thread is claimed: the call is in the queue for it
                self._work.put(call)
                return
            self._started += 1
            name = f"{self.name}-{self._started}"
        threading.Thread(target=self._serve, args=(call,), name=name, daemon=True).start()

    def _serve(self, call: Callable[[], object]) -> None:
        while True:
            call()
            with self._lock:
                self._idle += 1
            try:
                call = self._work.get(timeout=self.idle_s)
            except queue.Empty:
                with self._lock:
                    # A call put while this thread timed out was put for an idle thread:
                    # this one takes it. Else the thread ends, no longer counted idle.
                    try:
                        call = self._work.get_nowait()
                    except queue.Empty:
                        self._idle -= 1
                        return
