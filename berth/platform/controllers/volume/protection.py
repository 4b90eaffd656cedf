"""Storage object in use protection: the ``kubernetes.io/pvc-protection`` and
``kubernetes.io/pv-protection`` finalizers.

A claim being deleted stays (Terminating) while a pod that has not ended mounts it; a volume
being deleted stays while it is Bound to a claim. The binder adds the finalizers to every
claim and volume it sees, as Kubernetes' protection controllers do for objects that were
created without them.
"""

from __future__ import annotations

import logging

from berth.platform.controllers.volume.matching import (
    PV_PROTECTION,
    PVC_PROTECTION,
    holds_claims,
    in_use_by,
)
from berth.platform.resources import registry
from berth.platform.resources.meta import dig
from berth.platform.resources.registry import ResourceType
from berth.platform.store.client import Client

log = logging.getLogger(__name__)

PV_FINALIZER = PV_PROTECTION
PVC_FINALIZER = PVC_PROTECTION


def protect(client: Client, rt: ResourceType, obj: dict, finalizer: str) -> dict:
    """``obj`` with ``finalizer`` added (written when it was missing)."""
    finalizers = list(obj["metadata"].get("finalizers") or [])
    if finalizer in finalizers:
        return obj
    md = dict(obj["metadata"], finalizers=finalizers + [finalizer])
    return client.update(rt, dict(obj, metadata=md))


def _drop(client: Client, rt: ResourceType, obj: dict, finalizer: str) -> None:
    finalizers = list(obj["metadata"].get("finalizers") or [])
    if finalizer not in finalizers:
        return
    finalizers.remove(finalizer)
    client.update(rt, dict(obj, metadata=dict(obj["metadata"], finalizers=finalizers)))


def pods_using(client: Client, claim: dict) -> list[str]:
    """Names of the pods in the claim's namespace that mount it and have not ended; read
    from the store, not a cache, so a pod created a moment ago counts."""
    ns, name = claim["metadata"]["namespace"], claim["metadata"]["name"]
    return [
        pod["metadata"]["name"]
        for pod in client.list(registry.POD, ns).items
        if name in in_use_by(pod) and holds_claims(pod)
    ]


def release_claim(client: Client, claim: dict) -> None:
    users = pods_using(client, claim)
    if users:
        log.debug(
            "claim %s/%s is in use by %s: kept",
            claim["metadata"]["namespace"],
            claim["metadata"]["name"],
            users,
        )
        return
    _drop(client, registry.PERSISTENT_VOLUME_CLAIM, claim, PVC_FINALIZER)


def release_volume(client: Client, pv: dict) -> None:
    if dig(pv, "status", "phase") == "Bound":
        ref = dig(pv, "spec", "claimRef") or {}
        claim = client.try_get(
            registry.PERSISTENT_VOLUME_CLAIM, ref.get("namespace", ""), ref.get("name", "")
        )
        if claim is not None and claim["metadata"]["uid"] == ref.get("uid"):
            return
    _drop(client, registry.PERSISTENT_VOLUME, pv, PV_FINALIZER)
