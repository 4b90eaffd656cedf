"""What a pod's PersistentVolumeClaims demand of a node (kube-scheduler's VolumeBinding and
VolumeRestrictions plugins), from the claims, volumes and classes the informers see.

Pure: ``VolumeIndex`` is fed (old, new) pairs and answers ``constraint(pod, users)``, where
``users`` says which pods (counted on which node) use a claim. The answer is a
``VolumeConstraint`` that the static filter ``volume_binding`` reads, worked out just before
the pod is decided so it sees placements made earlier in the same cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from berth.platform.controllers.volume.matching import candidates
from berth.platform.resources.meta import changed, dig
from berth.platform.resources.nodeselectors import Term, parse_term, parse_terms
from berth.platform.resources.storageclasses import NO_PROVISIONER, waits_for_consumer
from berth.scheduler.views import PodRequest, VolumeConstraint

UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims"
ONCE_MODES = ("ReadWriteOnce",)
ONCE_POD = "ReadWriteOncePod"

# (namespace, claim) -> [(pod uid, node)] of the pods counted on a node that use it.
Users = Callable[[str, str], Iterable[tuple[str, str]]]


def claim_not_found(name: str) -> str:
    return f'persistentvolumeclaim "{name}" not found'


def claim_being_deleted(name: str) -> str:
    return f'persistentvolumeclaim "{name}" is being deleted'


def _affinity(pv: dict) -> tuple[Term, ...] | None:
    required = dig(pv, "spec", "nodeAffinity", "required")
    return parse_terms(required) if required is not None else None


def _topologies(sc: dict) -> tuple[Term, ...] | None:
    """A class's ``allowedTopologies`` as node selector terms (None: anywhere)."""
    allowed = sc.get("allowedTopologies")
    if not allowed:
        return None
    return tuple(
        parse_term(
            {
                "matchExpressions": [
                    {"key": e.get("key", ""), "operator": "In", "values": e.get("values") or []}
                    for e in t.get("matchLabelExpressions") or ()
                ]
            }
        )
        for t in allowed
    )


class VolumeIndex:
    def __init__(self) -> None:
        self.claims: dict[tuple[str, str], dict] = {}
        self.volumes: dict[str, dict] = {}
        self.classes: dict[str, dict] = {}

    # -- what the informers saw -----------------------------------------------------------
    def on_claim(self, old: dict | None, new: dict | None) -> None:
        obj = changed(old, new)
        key = (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        if new is None:
            self.claims.pop(key, None)
        else:
            self.claims[key] = new

    def on_volume(self, old: dict | None, new: dict | None) -> None:
        name = changed(old, new)["metadata"]["name"]
        if new is None:
            self.volumes.pop(name, None)
        else:
            self.volumes[name] = new

    def on_class(self, old: dict | None, new: dict | None) -> None:
        name = changed(old, new)["metadata"]["name"]
        if new is None:
            self.classes.pop(name, None)
        else:
            self.classes[name] = new

    # -- the answer -----------------------------------------------------------------------
    def constraint(self, pod: PodRequest, users: Users) -> VolumeConstraint:
        affinity: list[tuple[Term, ...]] = []
        unbound: list[tuple[tuple[Term, ...] | None, ...]] = []
        select: list[str] = []
        pinned = ""
        exclusive = missing = False
        for name in pod.claims:
            claim = self.claims.get((pod.namespace, name))
            if claim is None:
                return VolumeConstraint(error=claim_not_found(name))
            if claim["metadata"].get("deletionTimestamp"):
                return VolumeConstraint(error=claim_being_deleted(name))
            others = [(uid, node) for uid, node in users(pod.namespace, name) if uid != pod.uid]
            modes = set(dig(claim, "spec", "accessModes") or ())
            if ONCE_POD in modes and others:
                exclusive = True
            elif others and modes and modes <= set(ONCE_MODES):
                pinned = pinned or others[0][1]
            bound_to = dig(claim, "spec", "volumeName")
            if bound_to:
                pv = self.volumes.get(bound_to)
                if pv is None:
                    missing = True
                    continue
                terms = _affinity(pv)
                if terms is not None:
                    affinity.append(terms)
                continue
            class_name = dig(claim, "spec", "storageClassName") or ""
            sc = self.classes.get(class_name) if class_name else None
            if not waits_for_consumer(sc):
                return VolumeConstraint(error=UNBOUND_IMMEDIATE)
            options = [_affinity(pv) for pv in candidates(claim, self.volumes.values())]
            if (
                sc.get("provisioner") not in (None, "", NO_PROVISIONER)
                and dig(claim, "spec", "selector") is None
            ):
                options.append(_topologies(sc))
            unbound.append(tuple(options))
            select.append(name)
        return VolumeConstraint(
            affinity=tuple(affinity),
            unbound=tuple(unbound),
            pinned_node=pinned,
            exclusive_conflict=exclusive,
            missing_volume=missing,
            select=tuple(select),
        )
