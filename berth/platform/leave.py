"""Leaving a server process once it has stopped everything it started.

By then the store is closed, Ray is stopped and every thread of ours is done; what is left
is the interpreter's own teardown of a process that imported Ray, SQLAlchemy and FastAPI:
Ray's exit hook talks to a core worker whose cluster is gone, and every module is torn down
one by one. That took ~3 s after "Berth stopped" at load ~10 (py-spy: the main thread in
native code, no Python frame), and the API process was killed after its 4 s grace at load
~19. Nothing of Berth's own runs at exit, so the process flushes its logs and leaves; what
must still run (a profiler writing its report) registers with ``on_leave``.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import NoReturn

_LAST_WORDS: list[Callable[[], None]] = []


def on_leave(last_words: Callable[[], None]) -> None:
    """Have ``leave`` call ``last_words`` before the process ends (``atexit`` hooks never run)."""
    _LAST_WORDS.append(last_words)


def leave(code: int) -> NoReturn:
    """Call what ``on_leave`` registered, flush the logs and standard streams, then end the
    process with ``code`` at once."""
    for last_words in _LAST_WORDS:
        last_words()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def exit_code(exc: SystemExit) -> int:
    """The status a ``SystemExit`` would have given the process."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1
