"""Interpreter settings for ``berth up``'s long-running process.

**The start-up heap.** By the time ``berth up`` is ready it holds some hundred thousand
long-lived objects that are never garbage: modules, Ray's, SQLAlchemy's and FastAPI's
machinery, the informers' first lists. A full (generation 2) collection walks all of them
holding the GIL: in ``bench_e2e``'s run of 1,000 Jobs (load ~5, ``gc.callbacks``), 5 full
collections of ~205 ms each stopped every thread of the process for 0.8 s of a 17 s run.
``gc.freeze()`` moves every object alive at that moment to a permanent generation no
collection walks, so a later full collection walks only what was made since. A frozen object
that later becomes part of a garbage cycle is never freed (reference counting still frees the
rest): a bounded cost, paid once, for start-up objects.

(A shorter GIL switch interval, 1 ms instead of 5, in ``berth up`` and the node agent was
tried for shorter hand-offs between threads: at load ~15 it did not shorten a place's
turnover, 277 against 221 ms, and the agent used 7.4 CPU seconds against 5.3.)
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Collect once, then freeze every object left; the number of objects frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
