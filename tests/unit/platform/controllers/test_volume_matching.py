"""Which volume a claim binds to: tables over ``find_best`` and ``mismatch``."""

from __future__ import annotations

import pytest

from berth.platform.controllers.volume import reclaim
from berth.platform.controllers.volume.matching import (
    candidates,
    find_best,
    is_reserved_for,
    mismatch,
)
from berth.platform.resources import storageclasses


def pv(
    name,
    size="1Gi",
    modes=("ReadWriteOnce",),
    cls="",
    phase="Available",
    labels=None,
    claim_ref=None,
    affinity=None,
    mode=None,
    deleting=False,
):
    spec = {
        "capacity": {"storage": size},
        "accessModes": list(modes),
        "storageClassName": cls,
        "hostPath": {"path": f"/tmp/{name}"},
    }
    if claim_ref:
        spec["claimRef"] = claim_ref
    if affinity:
        spec["nodeAffinity"] = {
            "required": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {
                                "key": "kubernetes.io/hostname",
                                "operator": "In",
                                "values": [affinity],
                            }
                        ]
                    }
                ]
            }
        }
    if mode:
        spec["volumeMode"] = mode
    md = {"name": name, "labels": labels or {}}
    if deleting:
        md["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": md, "spec": spec, "status": {"phase": phase}}


def pvc(
    size="1Gi", modes=("ReadWriteOnce",), cls=None, selector=None, name="c", uid="u1", mode=None
):
    spec = {"accessModes": list(modes), "resources": {"requests": {"storage": size}}}
    if cls is not None:
        spec["storageClassName"] = cls
    if selector is not None:
        spec["selector"] = selector
    if mode:
        spec["volumeMode"] = mode
    return {"metadata": {"name": name, "namespace": "ns", "uid": uid}, "spec": spec}


def node(name, **labels):
    return {"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **labels}}}


REF = {"namespace": "ns", "name": "c", "uid": "u1"}

CASES = [
    # (what, claim, volumes, kwargs, expected volume name or None)
    (
        "the smallest that fits",
        pvc("1Gi"),
        [pv("big", "10Gi"), pv("small", "2Gi"), pv("tiny", "500Mi")],
        {},
        "small",
    ),
    ("exact size fits", pvc("1Gi"), [pv("exact", "1Gi"), pv("more", "2Gi")], {}, "exact"),
    ("too small for all", pvc("5Gi"), [pv("a", "1Gi"), pv("b", "2Gi")], {}, None),
    (
        "class must match",
        pvc(cls="fast"),
        [pv("none", cls=""), pv("fast", "5Gi", cls="fast")],
        {},
        "fast",
    ),
    ("no class only takes class-less", pvc(), [pv("fast", cls="fast")], {}, None),
    (
        "access modes must all be offered",
        pvc(modes=("ReadWriteMany",)),
        [pv("rwo"), pv("rwx", "5Gi", modes=("ReadWriteOnce", "ReadWriteMany"))],
        {},
        "rwx",
    ),
    (
        "fewest modes before smallest",
        pvc(),
        [pv("both", "1Gi", modes=("ReadWriteOnce", "ReadWriteMany")), pv("rwo", "2Gi")],
        {},
        "rwo",
    ),
    ("ReadWriteOncePod is its own mode", pvc(modes=("ReadWriteOncePod",)), [pv("rwo")], {}, None),
    (
        "only Available volumes",
        pvc(),
        [pv("bound", phase="Bound"), pv("released", phase="Released")],
        {},
        None,
    ),
    ("a volume just created counts as Available", pvc(), [pv("new", phase="Pending")], {}, "new"),
    (
        "claimed by another",
        pvc(),
        [pv("taken", claim_ref={"namespace": "ns", "name": "x", "uid": "u9"})],
        {},
        None,
    ),
    (
        "reserved for this claim wins outright",
        pvc(),
        [pv("small"), pv("mine", "10Gi", phase="Bound", claim_ref=REF)],
        {},
        "mine",
    ),
    (
        "reserved by name before the claim existed",
        pvc(),
        [pv("mine", "2Gi", claim_ref={"namespace": "ns", "name": "c"})],
        {},
        "mine",
    ),
    (
        "reserved for an older claim of that name",
        pvc(),
        [pv("old", claim_ref={"namespace": "ns", "name": "c", "uid": "u0"})],
        {},
        None,
    ),
    (
        "selector matchLabels",
        pvc(selector={"matchLabels": {"type": "hostpath"}}),
        [pv("plain", "1Gi"), pv("labelled", "2Gi", labels={"type": "hostpath"})],
        {},
        "labelled",
    ),
    (
        "selector matchExpressions",
        pvc(
            selector={
                "matchExpressions": [
                    {"key": "tier", "operator": "In", "values": ["gold", "silver"]}
                ]
            }
        ),
        [pv("bronze", labels={"tier": "bronze"}), pv("gold", "3Gi", labels={"tier": "gold"})],
        {},
        "gold",
    ),
    (
        "selector nothing matches",
        pvc(selector={"matchLabels": {"type": "nfs"}}),
        [pv("labelled", labels={"type": "hostpath"})],
        {},
        None,
    ),
    ("volume modes must agree", pvc(mode="Block"), [pv("fs")], {}, None),
    ("deleting volumes are skipped", pvc(), [pv("going", deleting=True)], {}, None),
    ("delayed binding waits for a node", pvc(), [pv("free")], {"delay_binding": True}, None),
    (
        "delayed binding with a node",
        pvc(),
        [pv("free")],
        {"delay_binding": True, "node": node("n1")},
        "free",
    ),
    (
        "node affinity must allow the node",
        pvc(),
        [pv("on-n2", affinity="n2"), pv("on-n1", "5Gi", affinity="n1")],
        {"delay_binding": True, "node": node("n1")},
        "on-n1",
    ),
    (
        "reserved but unreachable from the node",
        pvc(),
        [pv("mine", claim_ref=REF, affinity="n2")],
        {"node": node("n1")},
        None,
    ),
]


@pytest.mark.parametrize("what,claim,volumes,kwargs,expected", CASES, ids=[c[0] for c in CASES])
def test_find_best(what, claim, volumes, kwargs, expected):
    found = find_best(claim, volumes, **kwargs)
    assert (found["metadata"]["name"] if found else None) == expected


@pytest.mark.parametrize(
    "claim,volume,expected",
    [
        (pvc("1Gi"), pv("v", "1Gi"), None),
        (pvc("2Gi"), pv("v", "1Gi"), "requested PV is too small"),
        (pvc(cls="fast"), pv("v"), "storageClassName does not match"),
        (pvc(modes=("ReadWriteMany",)), pv("v"), "incompatible accessMode"),
        (pvc(mode="Block"), pv("v"), "incompatible volumeMode"),
        (pvc(selector={"matchLabels": {"a": "b"}}), pv("v"), None),  # a named volume: no selector
        (pvc(), pv("v", deleting=True), 'the volume is marked for deletion "v"'),
    ],
)
def test_mismatch_of_a_named_volume(claim, volume, expected):
    assert mismatch(claim, volume) == expected


def test_reserved_for_compares_uid_only_when_set():
    assert is_reserved_for(pv("v", claim_ref={"namespace": "ns", "name": "c"}), pvc())
    assert not is_reserved_for(pv("v", claim_ref={"namespace": "other", "name": "c"}), pvc())


def sc(name, default=False, created="2026-01-01T00:00:00Z", beta=False):
    key = (
        storageclasses.BETA_DEFAULT_CLASS_ANNOTATION
        if beta
        else storageclasses.DEFAULT_CLASS_ANNOTATION
    )
    return {
        "metadata": {
            "name": name,
            "creationTimestamp": created,
            "annotations": {key: "true"} if default else {},
        }
    }


@pytest.mark.parametrize(
    "classes,expected",
    [
        ([], None),
        ([sc("a"), sc("b")], None),
        ([sc("a"), sc("b", default=True)], "b"),
        ([sc("old", True, "2026-01-01T00:00:00Z"), sc("new", True, "2026-02-01T00:00:00Z")], "new"),
        ([sc("beta", default=True, beta=True)], "beta"),
    ],
)
def test_default_class(classes, expected):
    found = storageclasses.default_class(classes)
    assert (found["metadata"]["name"] if found else None) == expected


def test_candidates_ignore_node_affinity_but_not_the_rest():
    volumes = [
        pv("n1", affinity="n1"),
        pv("n2", affinity="n2"),
        pv("small", "1Mi"),
        pv("bound", phase="Bound"),
    ]
    assert [v["metadata"]["name"] for v in candidates(pvc(), volumes)] == ["n1", "n2"]
    mine = pv("mine", claim_ref=REF, affinity="n2", phase="Bound")
    assert [v["metadata"]["name"] for v in candidates(pvc(), volumes + [mine])] == ["mine"]


@pytest.mark.parametrize(
    "policy,provisioned,expected",
    [
        ("Retain", True, "keep"),
        (None, False, "keep"),  # static volumes default to Retain
        ("Delete", True, "delete"),
        ("Delete", False, "fail"),
        ("Recycle", True, "fail"),
    ],
)
def test_reclaim_policy(policy, provisioned, expected):
    volume = pv("v")
    if policy:
        volume["spec"]["persistentVolumeReclaimPolicy"] = policy
    assert reclaim.decide(volume, provisioned).action == expected
