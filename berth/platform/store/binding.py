"""pods/binding: the pod as it is once assigned to a node (a pure function of the pod)."""

from __future__ import annotations

from datetime import datetime

from berth.platform.errors import Conflict
from berth.platform.resources.meta import clone, rfc3339


def bound_pod(
    pod: dict, node_name: str, uid: str | None, annotations: dict[str, str] | None, now: datetime
) -> dict | None:
    """The pod with ``spec.nodeName`` set, ``PodScheduled`` True and the Binding's
    ``annotations``; None when it is already on ``node_name``. ``Conflict`` when the pod was
    replaced, is on another node, or is being deleted (``spec.nodeName`` is set once)."""
    md = pod["metadata"]
    name = md.get("name", "")
    if uid and md.get("uid") != uid:
        raise Conflict("pods", name, detail="the pod was replaced (uid changed)")
    current = (pod.get("spec") or {}).get("nodeName")
    if current:
        if current == node_name:
            return None
        raise Conflict("pods", name, detail=f'pod {name} is already assigned to node "{current}"')
    if md.get("deletionTimestamp"):
        raise Conflict("pods", name, detail="the pod is being deleted")
    new = clone(pod)
    new["spec"]["nodeName"] = node_name
    if annotations:
        new["metadata"]["annotations"] = {
            **(new["metadata"].get("annotations") or {}),
            **annotations,
        }
    status = new.setdefault("status", {})
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
    conditions.insert(
        0,
        {
            "type": "PodScheduled",
            "status": "True",
            "lastProbeTime": None,
            "lastTransitionTime": rfc3339(now),
        },
    )
    status["conditions"] = conditions
    return new
