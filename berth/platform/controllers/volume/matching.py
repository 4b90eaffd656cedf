"""Which PersistentVolume may satisfy which claim: pure functions, the rules of Kubernetes'
``pkg/controller/volume/persistentvolume`` (``findMatchingVolume``,
``checkVolumeSatisfyClaim``).

A volume fits a claim when its class equals the claim's (both "" for none), its capacity is at
least the request, it offers every access mode the claim asks for, the volume modes agree, and
its labels match the claim's selector. Among the fitting Available volumes the one with the
fewest access modes, then the least capacity, wins, so a small claim never takes a big volume
a big claim needs. A volume already reserved for this claim (``claimRef``) wins outright. A
volume still Pending (just created, not yet marked Available) counts as Available.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction

from berth.platform.errors import BadRequest
from berth.platform.resources import quantity, selectors
from berth.platform.resources.nodeselectors import node_selector_matches
from berth.platform.resources.pods import is_terminal
from berth.platform.resources.storageclasses import claim_class, volume_class

BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
SELECTED_NODE = "volume.kubernetes.io/selected-node"
STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
PV_PROTECTION = "kubernetes.io/pv-protection"
PVC_PROTECTION = "kubernetes.io/pvc-protection"


def _storage(amounts: Mapping | None) -> Fraction:
    value = (amounts or {}).get("storage")
    try:
        return quantity.parse(value) if value is not None else Fraction(0)
    except (ValueError, TypeError):
        return Fraction(0)


def requested(claim: dict) -> Fraction:
    return _storage(((claim.get("spec") or {}).get("resources") or {}).get("requests"))


def capacity(pv: dict) -> Fraction:
    return _storage((pv.get("spec") or {}).get("capacity"))


def _modes(obj: dict) -> set[str]:
    return set((obj.get("spec") or {}).get("accessModes") or [])


def access_modes_fit(claim: dict, pv: dict) -> bool:
    """Every mode the claim asks for is one the volume offers."""
    return _modes(claim) <= _modes(pv)


def _volume_mode(obj: dict) -> str:
    return (obj.get("spec") or {}).get("volumeMode") or "Filesystem"


def is_reserved_for(pv: dict, claim: dict) -> bool:
    """``IsVolumeBoundToClaim``: the volume's ``claimRef`` names this claim (and, when it
    carries a uid, this very claim and not an earlier one of the same name)."""
    ref = (pv.get("spec") or {}).get("claimRef")
    md = claim.get("metadata") or {}
    if (
        not ref
        or ref.get("name") != md.get("name")
        or (ref.get("namespace") or "") != (md.get("namespace") or "")
    ):
        return False
    return not ref.get("uid") or ref.get("uid") == md.get("uid")


def selector_matches(claim: dict, pv: dict) -> bool:
    selector = (claim.get("spec") or {}).get("selector")
    if selector is None:
        return True
    try:
        return selectors.from_object(selector).matches(
            (pv.get("metadata") or {}).get("labels") or {}
        )
    except BadRequest:
        return False


def node_affinity_allows(pv: dict, node: dict | None) -> bool:
    """A volume without node affinity is reachable from every node."""
    required = (((pv.get("spec") or {}).get("nodeAffinity")) or {}).get("required")
    if required is None or node is None:
        return True
    md = node.get("metadata") or {}
    return node_selector_matches(required, md.get("labels") or {}, md.get("name") or "")


def mismatch(claim: dict, pv: dict) -> str | None:
    """Why the volume a claim names in ``spec.volumeName`` cannot serve it (Kubernetes'
    wording), or None when it can. The selector does not count for a named volume."""
    if (pv.get("metadata") or {}).get("deletionTimestamp"):
        return f'the volume is marked for deletion "{pv["metadata"]["name"]}"'
    if capacity(pv) < requested(claim):
        return "requested PV is too small"
    if volume_class(pv) != claim_class(claim):
        return "storageClassName does not match"
    if _volume_mode(pv) != _volume_mode(claim):
        return "incompatible volumeMode"
    if not access_modes_fit(claim, pv):
        return "incompatible accessMode"
    return None


def find_best(
    claim: dict, volumes: Iterable[dict], *, node: dict | None = None, delay_binding: bool = False
) -> dict | None:
    """The volume to bind ``claim`` to, or None. ``node``: the node chosen for the claim's
    first consumer (``WaitForFirstConsumer``), whose labels the volume's node affinity must
    match; with ``delay_binding`` and no node yet, only a volume reserved for the claim
    counts."""
    want = requested(claim)
    best: dict | None = None
    best_key: tuple | None = None
    for pv in volumes:
        spec = pv.get("spec") or {}
        if spec.get("claimRef") and not is_reserved_for(pv, claim):
            continue
        if capacity(pv) < want or _volume_mode(pv) != _volume_mode(claim):
            continue
        if (pv.get("metadata") or {}).get("deletionTimestamp"):
            continue
        reachable = node_affinity_allows(pv, node)
        if spec.get("claimRef"):  # reserved for this claim
            return pv if reachable else None
        if node is None and delay_binding:
            continue
        # Pending: created a moment ago and not yet marked Available; taking it keeps a
        # manifest of volumes and claims applied at once from binding by arrival order.
        if (pv.get("status") or {}).get("phase") not in ("Available", "Pending") or not reachable:
            continue
        if (
            volume_class(pv) != claim_class(claim)
            or not selector_matches(claim, pv)
            or not access_modes_fit(claim, pv)
        ):
            continue
        key = (len(_modes(pv)), capacity(pv), pv["metadata"]["name"])
        if best_key is None or key < best_key:
            best, best_key = pv, key
    return best


def candidates(claim: dict, volumes: Iterable[dict]) -> list[dict]:
    """Every volume ``claim`` could bind to on some node (node affinity aside): the volume
    reserved for it, or else the Available ones that fit. The scheduler asks, node by node,
    whether one of them is reachable."""
    out = []
    for pv in volumes:
        if pv.get("spec", {}).get("claimRef") and is_reserved_for(pv, claim):
            return [pv] if find_best(claim, [pv], delay_binding=True) is not None else []
        if find_best(claim, [pv]) is not None:
            out.append(pv)
    return out


def in_use_by(pod: dict) -> list[str]:
    """The claims a pod mounts (its ``persistentVolumeClaim`` volumes)."""
    out = []
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        source = volume.get("persistentVolumeClaim")
        if isinstance(source, dict) and source.get("claimName"):
            out.append(source["claimName"])
    return out


def holds_claims(pod: dict) -> bool:
    """A pod keeps its claims in use until it has ended (Succeeded or Failed)."""
    return not is_terminal(pod)
