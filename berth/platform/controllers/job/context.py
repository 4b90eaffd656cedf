"""One sync's view of a Job and its pods (Kubernetes ``syncJobCtx``), built once, read by all
steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from . import backoff, indexes, keys, per_index, pod_failure_policy, pod_state
from .backoff import JobTracking
from .spec import JobSpec


@dataclass
class SyncContext:
    spec: JobSpec
    now: datetime
    pods: list[dict]
    active_pods: list[dict]
    ready: int
    terminating: int
    # UIDs in status.uncountedTerminatedPods when the sync began.
    uncounted_succeeded: set[str]
    uncounted_failed: set[str]
    # Best estimate of the counters once every finished pod is counted.
    succeeded: int
    failed: int
    record: JobTracking
    prev_succeeded_indexes: set[int] = field(default_factory=set)
    succeeded_indexes: set[int] = field(default_factory=set)
    failed_indexes: set[int] | None = None  # only with backoffLimitPerIndex
    delayed: dict[int, dict] = field(
        default_factory=dict
    )  # index -> failed pod awaiting replacement
    finished: dict | None = None  # the condition that ends the Job, once decided


def _not_yet_counted(spec: JobSpec, pod: dict, uncounted: set[str]) -> bool:
    """Kubernetes ``getValidPodsWithFilter``: tracked, not yet recorded, with a valid index."""
    if not pod_state.has_tracking_finalizer(pod) or pod_state.uid(pod) in uncounted:
        return False
    return not spec.indexed or pod_state.valid_index(pod, spec.completions) is not None


def observe(
    spec: JobSpec, status: dict, pods: list[dict], now: datetime, record: JobTracking
) -> SyncContext:
    active = [p for p in pods if pod_state.is_active(p)]
    uncounted = status.get("uncountedTerminatedPods") or {}
    uncounted_succeeded = set(uncounted.get("succeeded") or [])
    uncounted_failed = set(uncounted.get("failed") or [])
    new_succeeded = [
        p
        for p in pods
        if _not_yet_counted(spec, p, uncounted_succeeded) and pod_state.phase(p) == keys.SUCCEEDED
    ]
    new_failed = [
        p
        for p in pods
        if _not_yet_counted(spec, p, uncounted_failed) and pod_state.is_failed(p, spec)
    ]
    counted_failures = sum(
        1 for p in new_failed if pod_failure_policy.match(spec.pod_failure_policy, p).counts
    )
    ctx = SyncContext(
        spec=spec,
        now=now,
        pods=pods,
        active_pods=active,
        ready=sum(1 for p in active if pod_state.is_ready(p)),
        terminating=sum(1 for p in pods if pod_state.is_terminating(p)),
        uncounted_succeeded=uncounted_succeeded,
        uncounted_failed=uncounted_failed,
        succeeded=(status.get("succeeded") or 0) + len(new_succeeded) + len(uncounted_succeeded),
        failed=(status.get("failed") or 0) + counted_failures + len(uncounted_failed),
        record=backoff.next_record(record, new_succeeded, new_failed),
    )
    if spec.indexed:
        _observe_indexes(ctx, status)
    return ctx


def _observe_indexes(ctx: SyncContext, status: dict) -> None:
    spec = ctx.spec
    ctx.prev_succeeded_indexes = indexes.parse(status.get("completedIndexes"), spec.completions)
    ctx.succeeded_indexes = ctx.prev_succeeded_indexes | {
        index
        for p in ctx.pods
        if pod_state.phase(p) == keys.SUCCEEDED
        and pod_state.has_tracking_finalizer(p)
        and (index := pod_state.valid_index(p, spec.completions)) is not None
    }
    # For an Indexed Job an index succeeds once, however many of its pods succeed.
    ctx.succeeded = len(ctx.succeeded_indexes)
    if spec.per_index:
        ctx.failed_indexes = per_index.failed_indexes(spec, status.get("failedIndexes"), ctx.pods)
        ctx.delayed = per_index.delayed_deletions(
            spec,
            ctx.pods,
            active_indexes(ctx.active_pods),
            ctx.succeeded_indexes,
            ctx.failed_indexes,
        )


def active_indexes(pods: list[dict]) -> set[int]:
    return {index for p in pods if (index := pod_state.completion_index(p)) is not None}
