"""Exponential backoff before replacing failed pods (Kubernetes ``backoff_utils.go``).

The delay after ``n`` consecutive failures is ``10s * 2**(n-1)``, capped at 10 minutes: the
values of Kubernetes' ``DefaultJobPodFailureBackOff`` and ``MaxJobPodFailureBackOff`` today (older
documentation says 6 minutes; the controller has used 10 since the backoff moved to finish
times). It counts from the moment the last failed pod finished, so a controller that was down
for a while does not make a Job wait again for time that has already passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from berth.platform.backoff import exponential

from . import pod_state

DEFAULT_BACKOFF = timedelta(seconds=10)
MAX_BACKOFF = timedelta(minutes=10)


@dataclass(frozen=True)
class JobTracking:
    """What the controller remembers about a Job between syncs, outside the store.

    It is Kubernetes' in-memory ``backoffRecord``: failures since the last success and when the
    newest of them finished. Losing it (a restart) only shortens the next backoff, never changes
    a count, exactly as in Kubernetes.
    """

    failures_after_last_success: int = 0
    last_failure_time: datetime | None = None


def delay(failures: int) -> timedelta:
    """The wait after ``failures`` consecutive failures: 0, 10s, 20s, 40s, ... up to 10 min."""
    return timedelta(
        seconds=exponential(failures, DEFAULT_BACKOFF.total_seconds(), MAX_BACKOFF.total_seconds())
    )


def remaining(failures: int, last_failure: datetime | None, now: datetime) -> timedelta:
    """How much longer to wait before creating a replacement pod (never negative)."""
    if failures <= 0 or last_failure is None:
        return timedelta(0)
    return max(delay(failures) - (now - last_failure), timedelta(0))


def remaining_for(record: JobTracking, now: datetime) -> timedelta:
    return remaining(record.failures_after_last_success, record.last_failure_time, now)


def next_record(
    record: JobTracking, succeeded: Sequence[dict], failed: Sequence[dict]
) -> JobTracking:
    """Kubernetes ``newBackoffRecord``: fold the pods that finished since the last sync.

    A success resets the count; failures that finished after the newest success start it again.
    """
    succeeded_at = sorted(pod_state.finished_time(p) for p in succeeded)
    failed_at = sorted(pod_state.finished_time(p) for p in failed)
    if not succeeded_at:
        if not failed_at:
            return record
        return JobTracking(record.failures_after_last_success + len(failed_at), failed_at[-1])
    after_success = [moment for moment in failed_at if moment > succeeded_at[-1]]
    return JobTracking(len(after_success), after_success[-1] if after_success else None)
