"""StorageClass facts shared by admission, the volume binder and the scheduler: which class is
the default, what a claim's class is, and whether its binding waits for a consumer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeGuard

DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
BETA_DEFAULT_CLASS_ANNOTATION = "storageclass.beta.kubernetes.io/is-default-class"
WAIT_FOR_FIRST_CONSUMER = "WaitForFirstConsumer"
NO_PROVISIONER = "kubernetes.io/no-provisioner"


def is_default(sc: dict) -> bool:
    annotations = (sc.get("metadata") or {}).get("annotations") or {}
    return (
        annotations.get(DEFAULT_CLASS_ANNOTATION) == "true"
        or annotations.get(BETA_DEFAULT_CLASS_ANNOTATION) == "true"
    )


def default_class(classes: Iterable[dict]) -> dict | None:
    """Kubernetes' ``GetDefaultClass``: of the classes marked default, the newest (then the
    first by name), so adding a second default takes over at once."""
    marked = [
        sc
        for sc in classes
        if is_default(sc) and not (sc.get("metadata") or {}).get("deletionTimestamp")
    ]
    if not marked:
        return None
    marked.sort(key=lambda sc: sc["metadata"]["name"])
    return max(marked, key=lambda sc: sc["metadata"].get("creationTimestamp") or "")


def wants_default_class(spec: dict) -> bool:
    """Whether a claim takes the default StorageClass (DefaultStorageClass admission, and the
    binder's retroactive assignment): it names no class, no volume and no selector. A claim
    with a selector is left class-less so it can bind the labelled static volumes it asks
    for (the lecture's example), which a default class would rule out."""
    return (
        spec.get("storageClassName") is None
        and not spec.get("volumeName")
        and spec.get("selector") is None
    )


def claim_class(claim: dict) -> str:
    """``GetPersistentVolumeClaimClass``: the class name, "" for none (nil or empty)."""
    return ((claim.get("spec") or {}).get("storageClassName")) or ""


def volume_class(pv: dict) -> str:
    return ((pv.get("spec") or {}).get("storageClassName")) or ""


def waits_for_consumer(sc: dict | None) -> TypeGuard[dict]:
    """A class whose claims bind only once a pod using them is scheduled."""
    return sc is not None and sc.get("volumeBindingMode") == WAIT_FOR_FIRST_CONSUMER
