"""Keep the right number of pods running (Kubernetes ``manageJob``): delete the excess or create
the missing, never both in one sync, and never sooner than the failure backoff allows.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from . import backoff, keys, per_index, pod_state
from .context import SyncContext, active_indexes
from .pods import pod_for, random_suffix
from .spec import JobSpec


@dataclass
class Manage:
    active: int
    create: list[dict] = field(default_factory=list)
    delete: list[dict] = field(default_factory=list)  # deleted after their finalizer is released
    wait: timedelta | None = None  # when the next replacement may be created


def want_active(ctx: SyncContext) -> int:
    spec = ctx.spec
    if spec.completions is None:
        # A work queue: once any pod succeeded the work is done; let the rest finish, add none.
        return len(ctx.active_pods) if ctx.succeeded > 0 else spec.parallelism
    return max(0, min(spec.completions - ctx.succeeded, spec.parallelism))


def manage(ctx: SyncContext, job: dict, rng: random.Random) -> Manage:
    spec = ctx.spec
    active = len(ctx.active_pods)
    if spec.suspend:
        return Manage(0, delete=pods_for_removal(spec, ctx.active_pods, active))
    want = want_active(ctx)
    excess = pods_for_removal(spec, ctx.active_pods, max(active - want, 0))[
        : keys.MAX_POD_CREATE_DELETE_PER_SYNC
    ]
    if excess:
        # Deleting and creating in one sync could fight (an Indexed Job with a repeated index
        # needs both); Kubernetes deletes first and creates on a later sync.
        return Manage(active - len(excess), delete=excess)
    waiting = ctx.terminating if spec.only_replace_failed else 0
    missing = min(want - waiting - active, keys.MAX_POD_CREATE_DELETE_PER_SYNC)
    if missing <= 0:
        return Manage(active)
    if not spec.per_index:
        wait = backoff.remaining_for(ctx.record, ctx.now)
        if wait > timedelta(0):
            return Manage(active, wait=wait)
    if not spec.indexed:
        return Manage(
            active + missing,
            create=_named([pod_for(job, None, rng) for _ in range(missing)], ctx, rng),
        )
    chosen = first_pending_indexes(ctx, missing)
    wait = None
    if spec.per_index:
        waits = {i: per_index.remaining_backoff(ctx.delayed.get(i), ctx.now) for i in chosen}
        later = [w for w in waits.values() if w > timedelta(0)]
        chosen = [i for i in chosen if waits[i] <= timedelta(0)]
        wait = min(later) if later else None
        if not chosen:
            return Manage(active, wait=wait)
    created = [_indexed_pod(ctx, job, index, rng) for index in chosen]
    return Manage(active + len(created), create=_named(created, ctx, rng), wait=wait)


def _indexed_pod(ctx: SyncContext, job: dict, index: int, rng: random.Random) -> dict:
    if not ctx.spec.per_index:
        return pod_for(job, index, rng)
    count, ignored = per_index.replacement_counts(ctx.spec, ctx.delayed.get(index))
    return pod_for(job, index, rng, index_failure_count=count, index_ignored_failure_count=ignored)


def _named(created: list[dict], ctx: SyncContext, rng: random.Random) -> list[dict]:
    """Re-draw the rare random name that is already taken, so one Plan never collides with
    itself."""
    taken = {pod_state.pod_name(p) for p in ctx.pods}
    for pod in created:
        meta = pod["metadata"]
        while meta["name"] in taken:
            meta["name"] = meta["generateName"] + random_suffix(rng)
        taken.add(meta["name"])
    return created


def first_pending_indexes(ctx: SyncContext, count: int) -> list[int]:
    """The lowest ``count`` indexes with no success, no active pod and no final failure.

    Under ``podReplacementPolicy: Failed`` an index whose pod is still terminating is not
    pending either: its replacement waits for the old pod to be gone.
    """
    busy = set(ctx.succeeded_indexes) | active_indexes(ctx.active_pods)
    if ctx.spec.only_replace_failed:
        busy |= active_indexes([p for p in ctx.pods if pod_state.is_terminating(p)])
    if ctx.failed_indexes:
        busy |= ctx.failed_indexes
    result: list[int] = []
    candidate = 0
    while candidate < (ctx.spec.completions or 0) and len(result) < count:
        if candidate not in busy:
            result.append(candidate)
        candidate += 1
    return result


def pods_for_removal(spec: JobSpec, active: list[dict], at_least: int) -> list[dict]:
    """Kubernetes ``activePodsForRemoval``: the pods to delete, least progressed first.

    For an Indexed Job also every pod without a valid index and all but the most progressed pod
    of a repeated index, however many that is.
    """
    remove: list[dict] = []
    keep = list(active)
    if spec.indexed:
        remove, keep = _duplicated_index_pods(spec, active)
    if len(remove) < at_least:
        keep.sort(key=pod_state.removal_order)
        remove += keep[: at_least - len(remove)]
    return remove


def _duplicated_index_pods(spec: JobSpec, active: list[dict]) -> tuple[list[dict], list[dict]]:
    remove: list[dict] = []
    by_index: dict[int, list[dict]] = defaultdict(list)
    for pod in active:
        index = pod_state.valid_index(pod, spec.completions)
        if index is None:
            remove.append(pod)
        else:
            by_index[index].append(pod)
    keep: list[dict] = []
    for index in sorted(by_index):
        group = sorted(by_index[index], key=pod_state.removal_order)
        remove += group[:-1]
        keep.append(group[-1])
    return remove, keep
