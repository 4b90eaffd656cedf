"""Job conditions: build, find and set them the way the Kubernetes job controller does."""

from __future__ import annotations

from datetime import datetime

from berth.platform.resources.meta import rfc3339

from . import keys


def new_condition(kind: str, status: str, reason: str, message: str, now: datetime) -> dict:
    moment = rfc3339(now)
    return {
        "type": kind,
        "status": status,
        "lastProbeTime": moment,
        "lastTransitionTime": moment,
        "reason": reason,
        "message": message,
    }


def find(conditions: list[dict] | None, kind: str) -> dict | None:
    for cond in conditions or []:
        if cond.get("type") == kind:
            return cond
    return None


def is_true(conditions: list[dict] | None, kind: str) -> bool:
    cond = find(conditions, kind)
    return cond is not None and cond.get("status") == "True"


def is_finished(status: dict) -> bool:
    """A Job with Complete or Failed True never changes again."""
    conds = status.get("conditions")
    return is_true(conds, keys.COMPLETE) or is_true(conds, keys.FAILED_CONDITION)


def ensure(
    conditions: list[dict], kind: str, status: str, reason: str, message: str, now: datetime
) -> tuple[list[dict], bool]:
    """Set condition ``kind``; returns the new list and whether anything changed.

    A missing condition is not added as False (nothing to say yet). When only the reason or
    message changes, ``lastTransitionTime`` keeps the moment the status last flipped, as the API
    conventions define it; Kubernetes' ``ensureJobConditionStatus`` would reset it too.
    """
    current = find(conditions, kind)
    if current is None:
        if status == "False":
            return conditions, False
        return [*conditions, new_condition(kind, status, reason, message, now)], True
    if (current.get("status"), current.get("reason"), current.get("message")) == (
        status,
        reason,
        message,
    ):
        return conditions, False
    replacement = new_condition(kind, status, reason, message, now)
    if current.get("status") == status and current.get("lastTransitionTime"):
        replacement["lastTransitionTime"] = current["lastTransitionTime"]
    return [replacement if c is current else c for c in conditions], True
