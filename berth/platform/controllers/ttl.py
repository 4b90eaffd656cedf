"""TTL after finished: a finished Job with ``spec.ttlSecondsAfterFinished`` is deleted once that
many seconds have passed since it finished (Kubernetes ``ttlafterfinished`` controller).

The Job is deleted with propagation Background and a uid precondition (a Job re-created under
the same name meanwhile is not touched); the garbage collector then deletes its pods. When it
finished is read from ``status.completionTime`` or, for a failed Job, from the Failed
condition's ``lastTransitionTime``. The controller re-reads the Job from the store before it
deletes, so a TTL raised (or removed) just before expiry is honoured.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta

from berth.platform.cache.informers import InformerHub
from berth.platform.errors import NotFound
from berth.platform.resources import registry
from berth.platform.resources.meta import dig, parse_time, utcnow
from berth.platform.store.client import Client

log = logging.getLogger(__name__)

PROPAGATION = "Background"


def finished_at(job: dict) -> datetime | None:
    """When the Job finished: None while it has not (no Complete or Failed condition True)."""
    for cond in dig(job, "status", "conditions") or []:
        if cond.get("status") != "True" or cond.get("type") not in ("Complete", "Failed"):
            continue
        moment = dig(job, "status", "completionTime") if cond["type"] == "Complete" else None
        moment = moment or cond.get("lastTransitionTime")
        return parse_time(moment) if moment else None
    return None


def expires_at(job: dict) -> datetime | None:
    """When the Job is due for deletion; None when it never is (yet): no TTL, not finished,
    or already being deleted."""
    ttl = dig(job, "spec", "ttlSecondsAfterFinished")
    if ttl is None or dig(job, "metadata", "deletionTimestamp"):
        return None
    finished = finished_at(job)
    if finished is None:
        return None
    return finished + timedelta(seconds=ttl)


def time_left(job: dict, now: datetime) -> timedelta | None:
    """How long until the Job is due (zero or less: due now); None when it is not to be deleted."""
    due = expires_at(job)
    return None if due is None else due - now


class TTLAfterFinishedController:
    name = "ttl-after-finished"

    def __init__(self, client: Client, clock: Callable[[], datetime] = utcnow):
        self.client = client
        self.clock = clock

    def setup(self, hub: InformerHub, enqueue: Callable[[Hashable], None]) -> None:
        def on_change(_old: dict | None, new: dict | None) -> None:
            if new is not None and expires_at(new) is not None:
                enqueue((new["metadata"].get("namespace", ""), new["metadata"]["name"]))

        hub.informer(registry.JOB).add_handler(on_change)

    def reconcile(self, key: tuple[str, str]) -> float | None:
        namespace, name = key
        job = self.client.try_get(registry.JOB, namespace, name)
        if job is None:
            return None
        left = time_left(job, self.clock())
        if left is None:
            return None
        if left > timedelta(0):
            return left.total_seconds()
        log.info("deleting Job %s/%s: ttlSecondsAfterFinished has passed", namespace, name)
        try:
            # The resourceVersion too: a TTL raised after our read must win (Conflict → the
            # runner retries with a fresh read).
            self.client.delete(
                registry.JOB,
                namespace,
                name,
                propagation_policy=PROPAGATION,
                preconditions={
                    "uid": job["metadata"]["uid"],
                    "resourceVersion": job["metadata"]["resourceVersion"],
                },
            )
        except NotFound:
            pass
        return None
