"""What the control plane writes when a node agent reports a pod's status (the kubelet's
status manager): pure functions over the stored status and the reported one.

The agent owns the fields a kubelet computes (phase, container statuses, its conditions, IPs,
reason, message). Everything else in the stored status is kept: conditions others own
(``DisruptionTarget``, readiness gates), ``nominatedNodeName``, and ``qosClass`` and
``startTime``, which Kubernetes never changes once set. A condition whose status did not change
keeps its ``lastTransitionTime``. Terminal phases never change.
"""

from __future__ import annotations

from berth.platform.resources.pods import status_is_terminal
from berth.workers.status import UNKNOWN_REASON

# Status fields the node agent computes; any other stored field belongs to someone else.
AGENT_FIELDS = frozenset(
    {
        "phase",
        "conditions",
        "hostIP",
        "hostIPs",
        "podIP",
        "podIPs",
        "startTime",
        "containerStatuses",
        "initContainerStatuses",
        "ephemeralContainerStatuses",
        "reason",
        "message",
        "qosClass",
    }
)
_SET_ONCE = ("startTime", "qosClass")


def merge_conditions(stored: list[dict], reported: list[dict]) -> list[dict]:
    """Reported conditions (their transition time kept where the status is unchanged), then
    the stored conditions of types the agent did not report."""
    before = {c.get("type"): c for c in stored}
    out = []
    for cond in reported:
        old = before.get(cond.get("type"))
        if (
            old is not None
            and old.get("status") == cond.get("status")
            and old.get("lastTransitionTime")
        ):
            cond = {**cond, "lastTransitionTime": old["lastTransitionTime"]}
        out.append(cond)
    reported_types = {c.get("type") for c in reported}
    out += [c for c in stored if c.get("type") not in reported_types]
    return out


def merge_status(stored: dict | None, reported: dict) -> dict | None:
    """The status to write for ``reported``, or None when the stored one must stay (equal, or
    terminal with another phase)."""
    stored = stored or {}
    if status_is_terminal(stored) and reported.get("phase") != stored.get("phase"):
        return None
    out = {k: v for k, v in stored.items() if k not in AGENT_FIELDS}
    out.update(reported)
    for key in _SET_ONCE:
        if stored.get(key):
            out[key] = stored[key]
    out["conditions"] = merge_conditions(
        stored.get("conditions") or [], reported.get("conditions") or []
    )
    if not out["conditions"]:
        del out["conditions"]
    return None if out == stored else out


def containers_lost(status: dict) -> bool:
    """A Failed status the agent made up for containers it could not follow to their end
    (``ContainerStatusUnknown``): their process, task or node died."""
    if status.get("phase") != "Failed":
        return False
    return any(
        ((st.get("state") or {}).get("terminated") or {}).get("reason") == UNKNOWN_REASON
        for key in ("initContainerStatuses", "containerStatuses")
        for st in status.get(key) or []
    )
