"""What every part of the object client shares: the raw store it writes through, the clock,
the random source for generated names, the admission plugins, and group commit (``batch``).

The client's verbs live beside this by kind of request: reads (``client_reads``), creates
(``client_create``), updates and patches (``client_update``), and binding and deletes with the
``Client`` that puts them together (``client``).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime

from berth.platform.resources.meta import utcnow
from berth.platform.store.admission import ADMITTERS, Admitter
from berth.platform.store.db import Database
from berth.platform.store.lease import FencedDatabase


class ClientCore:
    def __init__(
        self,
        db: Database | FencedDatabase,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        admitters: tuple[Admitter, ...] = ADMITTERS,
    ):
        self.db = db
        self.clock = clock
        self.rng = rng or random.Random()
        self.admitters = admitters
        self._local = threading.local()  # .namespaces: found live in this thread's batch

    @contextmanager
    def batch(self):
        """``with client.batch():`` the writes inside commit together (``Database.batch``).
        A namespace found live is not read again by the creates of the same batch: a thousand
        Jobs into one namespace read it once (a namespace terminating meanwhile may get them,
        as with Kubernetes' cached admission; the namespace controller deletes them)."""
        if getattr(self._local, "namespaces", None) is not None:
            with self.db.batch():
                yield
            return
        self._local.namespaces = set()
        try:
            with self.db.batch():
                yield
        finally:
            self._local.namespaces = None
