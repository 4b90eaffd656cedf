"""Creating the Jobs of many runs due at the same instant: group commits, not one each.

A thousand CronJobs on one schedule are due at the same instant; one transaction per Job (a
write lock, a fence read, a commit each) makes the last Job seconds late. ``create_jobs``
writes them in group commits of up to ``CHUNK`` (``Client.create_many``): one transaction of a
few statements and, under a fenced client, one lease read per chunk. A Job that exists already
(the run was made before: ``AlreadyExists``) or is refused alone (invalid, namespace gone) is
left out and the others stand; a fenced chunk (the lease was lost) writes nothing and
``Fenced`` is raised, so a deposed leader makes no Job at all. Chunks committed before a
failure stand (each Job is a run of its own; the next reconcile of the others finds them
missing and makes them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from berth.platform.errors import AlreadyExists, BerthError
from berth.platform.resources import registry
from berth.platform.store.client import Client

CHUNK = 250


@dataclass(frozen=True)
class Made:
    """What became of one Job: ``job`` as stored when this call made it; else ``exists``
    (made before) or ``error`` (refused alone)."""

    job: dict | None = None
    exists: bool = False
    error: BerthError | None = None


def create_jobs(
    client: Client, jobs: list[dict], chunk: int = CHUNK, *, prepared: bool = False
) -> Iterator[Made]:
    """Create ``jobs`` in group commits of up to ``chunk``; yields, per Job and in order, what
    became of it, a chunk at a time once it has committed (so a caller sees the first Jobs
    exist while later chunks are still to be written, never while a transaction is open).
    Raises ``Fenced`` (nothing of that chunk written) or a database error (likewise).
    ``prepared``: the Jobs come from ``Client.prepare_create`` (``Client.create_many``)."""
    for start in range(0, len(jobs), max(1, chunk)):
        with client.batch():
            results = client.create_many(
                registry.JOB, jobs[start : start + chunk], prepared=prepared
            )
        for result in results:
            if isinstance(result, AlreadyExists):
                yield Made(exists=True)
            elif isinstance(result, BerthError):
                yield Made(error=result)
            else:
                yield Made(job=result)
