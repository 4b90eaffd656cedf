"""Evicting pods from lost and tainted nodes: Kubernetes' taint manager and pod GC, as pure
functions.

A ``NoExecute`` taint evicts every pod on the node that does not tolerate it; a toleration with
``tolerationSeconds`` delays that eviction by so long after the taint's ``timeAdded``, one
without keeps the pod forever. An evicted pod gets the ``DisruptionTarget`` condition, so that
a Job's ``podFailurePolicy`` can tell a lost node from a failing program. On a node that is gone
no agent can report the end, so the pod is marked Failed here (with the condition) before it is
deleted, as Kubernetes' pod GC does for pods on unreachable or vanished nodes.

Tolerations are matched by ``resources/taints.py``, as the scheduler matches them;
``tolerationSeconds`` matters only here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from berth.platform.resources.meta import dig, parse_time
from berth.platform.resources.pods import is_terminal
from berth.platform.resources.taints import NO_EXECUTE, taint_of, tolerates, toleration_of
from berth.workers.status import lost_status

DISRUPTION_TARGET = "DisruptionTarget"
TAINT_MANAGER_REASON = "DeletionByTaintManager"
TAINT_MANAGER_MESSAGE = "Taint manager: deleting due to NoExecute taint"
POD_GC_REASON = "DeletionByPodGC"
POD_GC_MESSAGE = "PodGC: node no longer exists"


def eviction_time(pod: dict, taints: list[dict], now: datetime) -> datetime | None:
    """When the node's ``NoExecute`` taints evict ``pod`` (the taint manager's
    ``processPodOnNode``): ``now`` for an untolerated taint; else the smallest
    ``tolerationSeconds`` among the tolerations in use, counted from the taints' ``timeAdded``
    (the manager keeps no timers: the store is the record); None when no toleration in use
    has a limit, or there is no such taint."""
    tolerations = dig(pod, "spec", "tolerations") or []
    used: list[dict] = []
    added: list[datetime] = []
    for taint in taints:
        if taint.get("effect") != NO_EXECUTE:
            continue
        matching = [t for t in tolerations if tolerates(toleration_of(t), taint_of(taint))]
        if not matching:
            return now
        used += matching
        added.append(parse_time(taint["timeAdded"]) if taint.get("timeAdded") else now)
    limits = [t["tolerationSeconds"] for t in used if t.get("tolerationSeconds") is not None]
    if not limits:
        return None
    return min(added) + timedelta(seconds=max(0, min(limits)))


def disruption_condition(reason: str, message: str, now: str) -> dict:
    return {
        "type": DISRUPTION_TARGET,
        "status": "True",
        "reason": reason,
        "message": message,
        "lastProbeTime": None,
        "lastTransitionTime": now,
    }


def with_condition(status: dict | None, condition: dict) -> dict:
    """``status`` with ``condition`` in place of any of its type (its transition time kept
    when its status is unchanged)."""
    out = dict(status or {})
    conditions = [c for c in out.get("conditions") or [] if c.get("type") != condition["type"]]
    old = next((c for c in out.get("conditions") or [] if c.get("type") == condition["type"]), None)
    if old is not None and old.get("status") == condition.get("status"):
        condition = {**condition, "lastTransitionTime": old.get("lastTransitionTime")}
    out["conditions"] = conditions + [condition]
    return out


def failed_disrupted(pod: dict, reason: str, message: str, now: str) -> dict:
    """The terminal status of a pod whose node is gone: Failed, every unfinished container
    ``ContainerStatusUnknown``, ``DisruptionTarget`` True."""
    status = pod.get("status") or {}
    if is_terminal(pod):
        return with_condition(status, disruption_condition(reason, message, now))
    failed = lost_status(
        pod,
        status if status.get("containerStatuses") else None,
        status.get("hostIP", ""),
        now,
        message,
    )
    for key in ("startTime", "qosClass"):
        if status.get(key):
            failed[key] = status[key]
    kept = [
        c
        for c in status.get("conditions") or []
        if c.get("type") not in {c2.get("type") for c2 in failed.get("conditions") or []}
    ]
    failed["conditions"] = list(failed.get("conditions") or []) + kept
    if not status.get("hostIP"):
        for key in ("hostIP", "hostIPs", "podIP", "podIPs"):
            failed.pop(key, None)
    return with_condition(failed, disruption_condition(reason, message, now))
