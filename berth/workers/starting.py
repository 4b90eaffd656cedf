"""Whether a pod status is only the normal start of a pod, which the node agent and the
kubelet let the next status carry instead of a store write of its own. Pure; used on both
sides (the node's agent and launcher, the control plane's status reports)."""

from __future__ import annotations

_STARTING_REASONS = frozenset({"ContainerCreating", "PodInitializing"})


def starting(status: dict) -> bool:
    """A pod on its normal way to running: Pending, every container waiting to be created (no
    message: nothing is wrong). Such a status is written with the next one (Running, most
    often, milliseconds later) instead of in a store write of its own, or once it has lasted
    a while (a pod waiting in Ray's queue): the agent's long poll does not answer for it, and
    the kubelet holds it back (``reports.py``)."""
    if status.get("phase") != "Pending" or status.get("reason") or status.get("message"):
        return False
    containers = [
        cs for key in ("initContainerStatuses", "containerStatuses") for cs in status.get(key) or []
    ]
    for cs in containers:
        waiting = (cs.get("state") or {}).get("waiting")
        if (
            waiting is None
            or waiting.get("reason") not in _STARTING_REASONS
            or waiting.get("message")
            or cs.get("lastState", {}).get("terminated")
        ):
            return False
    return True
