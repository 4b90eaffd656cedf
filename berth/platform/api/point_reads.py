"""A GET of one object: on the event loop when the store is SQLite, else in a worker thread.

Measured in ``berth up``'s API process under load (bench_e2e, 1000 Jobs, load 17 on 2 cores):
the SQLite read itself took 0.5 ms at the median, but handing it to a worker thread and its
answer back to the event loop took 2.5 ms at the median and 180 ms at p99, because each hand-
over waits for the other thread to be scheduled and to take the interpreter lock from the
threads decoding and storing POSTed objects. A read of one row by its primary key from a local
SQLite file (WAL: readers never wait for writers) is cheaper than either hand-over, so it runs
where the request already is. It is the same read, with the same consistency: it sees every
write committed before the request. PostgreSQL reads cross a network, and stay in a thread.
"""

from __future__ import annotations

from sqlalchemy.pool import QueuePool
from starlette.concurrency import run_in_threadpool

from berth.platform.resources.registry import ResourceType
from berth.platform.runtime import Platform


async def get_object(platform: Platform, rt: ResourceType, namespace: str, name: str) -> dict:
    if platform.db.dialect.is_sqlite and _connection_free(platform):
        return platform.client.get(rt, namespace, name)
    return await run_in_threadpool(platform.client.get, rt, namespace, name)


def _connection_free(platform: Platform) -> bool:
    """The pool can hand out a connection without waiting: the event loop must never wait
    for one (the worker threads may hold them all, say, during a burst of large LISTs)."""
    pool = platform.db.engine.pool
    if not isinstance(pool, QueuePool):
        return True
    return pool.checkedin() > 0 or pool.checkedout() < pool.size()
