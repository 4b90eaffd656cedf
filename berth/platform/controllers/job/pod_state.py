"""What the Job controller reads from a pod: phase, readiness, index, finish time, deletion order.

Each is a pure function of one Pod dict, named after the Kubernetes helper it mirrors
(``controller.FilterActivePods``, ``podutil.IsPodReady``, ``getFinishedTime``, ``ActivePods``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from berth.platform.resources.meta import dig, parse_time
from berth.platform.resources.pods import is_terminal

from . import keys
from .spec import JobSpec

ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)
_PHASE_ORDER = {keys.PENDING: 0, keys.UNKNOWN: 1, keys.RUNNING: 2}


def uid(pod: dict) -> str:
    return dig(pod, "metadata", "uid", default="")


def pod_name(pod: dict) -> str:
    return dig(pod, "metadata", "name", default="")


def phase(pod: dict) -> str:
    return dig(pod, "status", "phase", default=keys.PENDING)


def is_deleting(pod: dict) -> bool:
    return dig(pod, "metadata", "deletionTimestamp") is not None


def is_active(pod: dict) -> bool:
    return not is_terminal(pod) and not is_deleting(pod)


def is_terminating(pod: dict) -> bool:
    return is_deleting(pod) and not is_terminal(pod)


def has_tracking_finalizer(pod: Mapping[str, Any]) -> bool:
    return keys.TRACKING_FINALIZER in (dig(pod, "metadata", "finalizers") or [])


def condition(pod: dict, kind: str) -> dict | None:
    for cond in dig(pod, "status", "conditions") or []:
        if cond.get("type") == kind:
            return cond
    return None


def is_ready(pod: dict) -> bool:
    cond = condition(pod, keys.POD_READY)
    return cond is not None and cond.get("status") == "True"


def is_failed(pod: dict, spec: JobSpec) -> bool:
    """Kubernetes ``isPodFailed``: Failed, or being deleted before it could succeed.

    A pod deleted while running (node drained, someone ran ``kubectl delete pod``) may never
    reach the Failed phase, so under the default replacement policy it counts as failed as soon
    as it is terminating; under ``podReplacementPolicy: Failed`` only once it is Failed.
    """
    if phase(pod) == keys.FAILED:
        return True
    if spec.only_replace_failed:
        return False
    return is_deleting(pod) and phase(pod) != keys.SUCCEEDED


def completion_index(pod: dict) -> int | None:
    value = (dig(pod, "metadata", "annotations") or {}).get(keys.COMPLETION_INDEX)
    if value is None:
        return None
    try:
        index = int(value)
    except ValueError:
        return None
    return index if index >= 0 else None


def valid_index(pod: dict, completions: int | None) -> int | None:
    """The pod's completion index when it names one of the Job's indexes, else None."""
    index = completion_index(pod)
    if index is None or completions is None or index >= completions:
        return None
    return index


def _annotation_count(pod: dict, key: str) -> int:
    value = (dig(pod, "metadata", "annotations") or {}).get(key)
    try:
        count = int(value) if value is not None else 0
    except ValueError:
        return 0
    return count if 0 <= count <= 2**31 - 1 else 0


def index_failure_count(pod: dict) -> int:
    return _annotation_count(pod, keys.INDEX_FAILURE_COUNT)


def index_ignored_failure_count(pod: dict) -> int:
    return _annotation_count(pod, keys.INDEX_IGNORED_FAILURE_COUNT)


def restart_count(pod: dict) -> int:
    statuses = (dig(pod, "status", "initContainerStatuses") or []) + (
        dig(pod, "status", "containerStatuses") or []
    )
    return sum(s.get("restartCount") or 0 for s in statuses)


def _max_restarts(pod: dict) -> int:
    return max(
        (s.get("restartCount") or 0 for s in dig(pod, "status", "containerStatuses") or []),
        default=0,
    )


def _time(text: str | None) -> datetime | None:
    return parse_time(text) if text else None


def finished_time(pod: dict) -> datetime:
    """Kubernetes ``getFinishedTime``: when the pod ended, for the failure backoff.

    The latest container finish (sidecars included, they end last); else when Ready turned False;
    else the deletion moment (deletionTimestamp less the grace period); else its creation.
    """
    sidecars = {
        c.get("name")
        for c in dig(pod, "spec", "initContainers") or []
        if c.get("restartPolicy") == "Always"
    }
    statuses = list(dig(pod, "status", "containerStatuses") or [])
    statuses += [
        s for s in dig(pod, "status", "initContainerStatuses") or [] if s.get("name") in sidecars
    ]
    ends = [_time(dig(s, "state", "terminated", "finishedAt")) for s in statuses]
    known = [end for end in ends if end is not None]
    if ends and len(known) == len(ends):
        return max(known)
    ready = condition(pod, keys.POD_READY)
    if ready is not None and ready.get("status") == "False" and ready.get("lastTransitionTime"):
        return parse_time(ready["lastTransitionTime"])
    deleted = _time(dig(pod, "metadata", "deletionTimestamp"))
    if deleted is not None:
        grace = dig(pod, "metadata", "deletionGracePeriodSeconds", default=0)
        return deleted - timedelta(seconds=grace)
    return _time(dig(pod, "metadata", "creationTimestamp")) or ZERO_TIME


def _newest_first(moment: datetime | None) -> float:
    """Sort component putting an empty time first, then later times before earlier ones."""
    return float("-inf") if moment is None else -moment.timestamp()


def removal_order(pod: dict) -> tuple:
    """Kubernetes ``controller.ActivePods``: which active pod to delete first.

    Unscheduled before scheduled, Pending before Unknown before Running, not ready before ready,
    ready for less time before ready for longer, more restarts before fewer, newer before older:
    the pod that has done the least work goes first.
    """
    ready_cond = condition(pod, keys.POD_READY)
    ready = is_ready(pod)
    ready_since = _time(ready_cond.get("lastTransitionTime")) if ready and ready_cond else None
    return (
        bool(dig(pod, "spec", "nodeName")),
        _PHASE_ORDER.get(phase(pod), 0),
        ready,
        _newest_first(ready_since) if ready else 0.0,
        -_max_restarts(pod),
        _newest_first(_time(dig(pod, "metadata", "creationTimestamp"))),
    )
