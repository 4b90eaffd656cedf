"""Two syncs in one status write, where the store makes them one commit.

``tracking.py``'s protocol takes two syncs to count a finished pod: the first records it in
``uncountedTerminatedPods`` and releases its finalizer, the second moves it into the counter
(and, for most Jobs, sets the final condition). The record in between is what makes a crash
between the status write and the finalizer removal safe in Kubernetes, whose store writes one
object at a time. Berth's store commits a Job's status write and its finalizer removals in one
transaction (``apply.py``), all or nothing, so the record need never be stored: the second
sync is planned at once, on the world as the first leaves it, and its status is the one
written, together with the first's finalizer removals. A crash before the commit leaves the
pods held and uncounted; after it, released and counted: never one without the other.

That is a Job status write, a sync and a commit less per finished pod. Only Plans that do
nothing else are folded (no pod created or deleted by the first or the second, no pod released
by the second, no released pod being deleted, whose release may remove it), so that the world
the second is planned on is exactly the one the first leaves.
"""

from __future__ import annotations

import random
from datetime import datetime

from . import keys
from .backoff import JobTracking
from .plan import Plan, plan


def plan_folded(
    job: dict,
    pods: list[dict],
    now: datetime,
    state: JobTracking | None = None,
    *,
    rng: random.Random | None = None,
) -> Plan:
    """``plan``, with the sync that follows folded in when that is safe (module docstring).
    A folded Plan has ``counts_released`` set: its finalizer removals must commit with its
    status or not at all."""
    first = plan(job, pods, now, state, rng=rng)
    if not _foldable(first, pods):
        return first
    released = {ref.uid for ref in first.remove_finalizers}
    after = [_without_finalizer(p) if p["metadata"].get("uid") in released else p for p in pods]
    second = plan({**job, "status": first.status}, after, now, first.tracking, rng=rng)
    if second.create or second.delete or second.remove_finalizers or not second.write_status:
        return first
    return Plan(
        status=second.status,
        write_status=True,
        remove_finalizers=first.remove_finalizers,
        events=[*first.events, *second.events],
        requeue_after=second.requeue_after,
        tracking=second.tracking,
        counts_released=True,
    )


def _foldable(first: Plan, pods: list[dict]) -> bool:
    if not first.write_status or not first.remove_finalizers or first.create or first.delete:
        return False
    released = {ref.uid for ref in first.remove_finalizers}
    return not any(
        p["metadata"].get("deletionTimestamp") for p in pods if p["metadata"].get("uid") in released
    )


def _without_finalizer(pod: dict) -> dict:
    md = pod["metadata"]
    kept = [f for f in md.get("finalizers") or [] if f != keys.TRACKING_FINALIZER]
    return {**pod, "metadata": {**md, "finalizers": kept}}
