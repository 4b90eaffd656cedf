"""``backoffLimitPerIndex``: each index of an Indexed Job gets its own failure budget.

How many pods of an index failed so far travels from pod to pod in the
``batch.kubernetes.io/job-index-failure-count`` annotation: a failed pod keeps its tracking
finalizer until its replacement exists, so the count is copied before the failed pod may vanish
(Kubernetes ``getPodsWithDelayedDeletionPerIndex``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from . import backoff, indexes, keys, pod_failure_policy, pod_state
from .spec import JobSpec


def is_index_failed(spec: JobSpec, pod: dict) -> bool:
    """The pod's failure ends its index: a FailIndex rule, or the index's budget is spent."""
    if not pod_state.is_failed(pod, spec):
        return False
    verdict = pod_failure_policy.match(spec.pod_failure_policy, pod)
    if verdict.action == keys.FAIL_INDEX:
        return True
    return verdict.counts and pod_state.index_failure_count(pod) >= (
        spec.backoff_limit_per_index or 0
    )


def failed_indexes(spec: JobSpec, previous: str | None, pods: Iterable[dict]) -> set[int]:
    """``status.failedIndexes`` so far plus the indexes whose uncounted pods ended them."""
    result = indexes.parse(previous, spec.completions)
    for pod in pods:
        index = pod_state.valid_index(pod, spec.completions)
        if (
            index is not None
            and pod_state.has_tracking_finalizer(pod)
            and is_index_failed(spec, pod)
        ):
            result.add(index)
    return result


def absolute_failure_count(pod: dict) -> int:
    return pod_state.index_failure_count(pod) + pod_state.index_ignored_failure_count(pod)


def delayed_deletions(
    spec: JobSpec,
    pods: Iterable[dict],
    active_indexes: set[int],
    succeeded: set[int],
    failed: set[int],
) -> dict[int, dict]:
    """For each index awaiting a replacement, its latest failed pod, kept until it is replaced.

    An index that succeeded, failed for good, or already has an active pod needs no replacement:
    the active pod already carries the count.
    """
    latest: dict[int, dict] = {}
    for pod in pods:
        index = pod_state.valid_index(pod, spec.completions)
        if (
            index is None
            or not pod_state.has_tracking_finalizer(pod)
            or not pod_state.is_failed(pod, spec)
        ):
            continue
        if index in succeeded or index in failed or index in active_indexes:
            continue
        held = latest.get(index)
        if held is None or (
            absolute_failure_count(held) <= absolute_failure_count(pod)
            and pod_state.finished_time(pod) >= pod_state.finished_time(held)
        ):
            latest[index] = pod
    return latest


def replacement_counts(spec: JobSpec, replaced: dict | None) -> tuple[int, int]:
    """(failure count, ignored failure count) for the pod that replaces ``replaced``."""
    if replaced is None:
        return 0, 0
    count = pod_state.index_failure_count(replaced)
    ignored = pod_state.index_ignored_failure_count(replaced)
    if pod_failure_policy.match(spec.pod_failure_policy, replaced).counts:
        return count + 1, ignored
    return count, ignored + 1


def remaining_backoff(replaced: dict | None, now: datetime) -> timedelta:
    """How long an index waits before its replacement (Kubernetes ``getRemainingTimePerIndex``)."""
    if replaced is None:
        return timedelta(0)
    return backoff.remaining(
        absolute_failure_count(replaced) + 1, pod_state.finished_time(replaced), now
    )
