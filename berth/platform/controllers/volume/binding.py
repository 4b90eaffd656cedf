"""The volume binder's writes: binding a claim and a volume, and phase changes.

Binding is crash-safe and exclusive: the volume's ``claimRef`` is written first, as a
compare-and-set on the resourceVersion just read, so of two claims racing for one volume only
one wins; the claim side is written after and is redone by the next reconcile after a crash.
"""

from __future__ import annotations

import logging

from berth.platform.controllers.volume.matching import (
    BIND_COMPLETED,
    BOUND_BY_CONTROLLER,
    is_reserved_for,
)
from berth.platform.controllers.volume.provisioner import claim_ref
from berth.platform.resources import registry
from berth.platform.resources.meta import dig, rfc3339
from berth.platform.resources.registry import ResourceType
from berth.platform.store.client import Client

log = logging.getLogger(__name__)

PV, PVC = registry.PERSISTENT_VOLUME, registry.PERSISTENT_VOLUME_CLAIM


def bind(client: Client, claim: dict, pv: dict) -> None:
    """Bind, one idempotent step after another: volume ``claimRef`` (the compare-and-set
    that makes the volume this claim's), volume phase, claim ``volumeName``, claim phase.
    A Conflict anywhere is a race lost or a stale read: the runner retries afresh."""
    pv_name = pv["metadata"]["name"]
    if not is_reserved_for(pv, claim) or not dig(pv, "spec", "claimRef", "uid"):
        new = dict(pv, spec=dict(pv["spec"], claimRef=claim_ref(claim)))
        annotations = dict(dig(pv, "metadata", "annotations") or {})
        if not dig(pv, "spec", "claimRef"):
            annotations[BOUND_BY_CONTROLLER] = "yes"
        new["metadata"] = dict(pv["metadata"], annotations=annotations)
        pv = client.update(PV, new)  # resourceVersion of our read: CAS
    if dig(pv, "status", "phase") != "Bound":
        pv = set_phase(client, PV, pv, "Bound")
    md = claim["metadata"]
    annotations = dict(md.get("annotations") or {})
    if dig(claim, "spec", "volumeName") != pv_name or annotations.get(BIND_COMPLETED) != "yes":
        if not dig(claim, "spec", "volumeName"):
            annotations[BOUND_BY_CONTROLLER] = "yes"
        annotations[BIND_COMPLETED] = "yes"
        new = dict(
            claim,
            spec=dict(claim["spec"], volumeName=pv_name),
            metadata=dict(md, annotations=annotations),
        )
        claim = client.update(PVC, new)
    status = {
        "phase": "Bound",
        "accessModes": list(dig(pv, "spec", "accessModes") or []),
        "capacity": dict(dig(pv, "spec", "capacity") or {}),
    }
    if any(dig(claim, "status", k) != v for k, v in status.items()):
        client.update_status(PVC, dict(claim, status={**(claim.get("status") or {}), **status}))
        log.info("bound claim %s/%s to volume %s", md["namespace"], md["name"], pv_name)


def set_phase(
    client: Client, rt: ResourceType, obj: dict, phase: str, message: str | None = None
) -> dict:
    """A claim's or a volume's new phase (with ``message``, or none: an old one goes)."""
    status = {k: v for k, v in (obj.get("status") or {}).items() if k != "message"}
    status["phase"] = phase
    if message:
        status["message"] = message
    if rt is PV:
        status["lastPhaseTransitionTime"] = rfc3339(client.clock())
    return client.update_status(rt, dict(obj, status=status))
