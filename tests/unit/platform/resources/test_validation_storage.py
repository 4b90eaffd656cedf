"""PersistentVolumes, PersistentVolumeClaims and StorageClasses."""

import copy

import pytest

from berth.platform.resources import registry, strategy

T0 = "2026-01-01T00:00:00Z"


def a_pv(**spec):
    body = {
        "capacity": {"storage": "2Gi"},
        "accessModes": ["ReadWriteOnce"],
        "hostPath": {"path": "/mnt/data"},
    }
    body.update(spec)
    return {"metadata": {"name": "pv", "uid": "u", "creationTimestamp": T0}, "spec": body}


def a_pvc(**spec):
    body = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    body.update(spec)
    return {"metadata": {"name": "claim", "namespace": "default", "uid": "u"}, "spec": body}


def a_class(**fields):
    return {
        "metadata": {"name": "standard", "uid": "u"},
        "provisioner": "kubernetes.io/gce-pd",
        **fields,
    }


def causes(rt, obj):
    obj = copy.deepcopy(obj)
    strategy.prepare_for_create(rt, obj)
    return [(c.field, c.reason) for c in strategy.validate_create(rt, obj)]


def update_causes(rt, old, mutate, status=None):
    old = copy.deepcopy(old)
    strategy.prepare_for_create(rt, old)
    if status is not None:
        old["status"] = status
    new = copy.deepcopy(old)
    mutate(new)
    strategy.prepare_for_update(rt, new, old)
    return [(c.field, c.reason) for c in strategy.validate_update(rt, new, old)]


@pytest.mark.parametrize(
    "pv,field,reason",
    [
        (a_pv(capacity=None), "spec.capacity", "FieldValueRequired"),
        (a_pv(capacity={"cpu": "1"}), "spec.capacity", "FieldValueNotSupported"),
        (a_pv(capacity={"storage": "0"}), "spec.capacity[storage]", "FieldValueInvalid"),
        (a_pv(capacity={"storage": "lots"}), "spec.capacity[storage]", "FieldValueInvalid"),
        (a_pv(accessModes=[]), "spec.accessModes", "FieldValueRequired"),
        (a_pv(accessModes=["ReadWriteSometimes"]), "spec.accessModes", "FieldValueNotSupported"),
        (
            a_pv(accessModes=["ReadWriteOncePod", "ReadOnlyMany"]),
            "spec.accessModes",
            "FieldValueForbidden",
        ),
        (a_pv(nfs={"server": "h", "path": "/x"}), "spec.nfs", "FieldValueForbidden"),
        (a_pv(hostPath=None), "spec", "FieldValueRequired"),
        (
            a_pv(hostPath=None, nfs={"server": "h", "path": "exports"}),
            "spec.nfs.path",
            "FieldValueInvalid",
        ),
        (a_pv(hostPath=None, nfs={"path": "/exports"}), "spec.nfs.server", "FieldValueRequired"),
        (a_pv(hostPath={}), "spec.hostPath.path", "FieldValueRequired"),
        (a_pv(hostPath=None, local={"path": "/disk"}), "spec.nodeAffinity", "FieldValueRequired"),
        (
            a_pv(hostPath=None, csi={"driver": "csi.example.com"}),
            "spec.csi.volumeHandle",
            "FieldValueRequired",
        ),
        (
            a_pv(persistentVolumeReclaimPolicy="Keep"),
            "spec.persistentVolumeReclaimPolicy",
            "FieldValueNotSupported",
        ),
        (a_pv(volumeMode="Raw"), "spec.volumeMode", "FieldValueNotSupported"),
        (a_pv(storageClassName="Slow_Disks"), "spec.storageClassName", "FieldValueInvalid"),
    ],
)
def test_pv_rules(pv, field, reason):
    assert (field, reason) in causes(registry.PERSISTENT_VOLUME, pv)


def test_pv_defaults_and_status():
    pv = a_pv()
    strategy.prepare_for_create(registry.PERSISTENT_VOLUME, pv)
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert pv["spec"]["volumeMode"] == "Filesystem"
    assert pv["status"] == {"phase": "Pending", "lastPhaseTransitionTime": T0}
    local = a_pv(
        hostPath=None,
        local={"path": "/disk"},
        nodeAffinity={
            "required": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": "kubernetes.io/hostname", "operator": "In", "values": ["n1"]}
                        ]
                    }
                ]
            }
        },
    )
    assert causes(registry.PERSISTENT_VOLUME, local) == []


@pytest.mark.parametrize(
    "mutate,ok",
    [
        (lambda pv: pv["spec"].update(claimRef={"namespace": "default", "name": "claim"}), True),
        (lambda pv: pv["spec"].update(capacity={"storage": "5Gi"}), True),
        (lambda pv: pv["spec"].update(persistentVolumeReclaimPolicy="Delete"), True),
        (lambda pv: pv["spec"].update(hostPath={"path": "/elsewhere"}), False),
        (lambda pv: pv["spec"].update(volumeMode="Block"), False),
    ],
)
def test_pv_updates(mutate, ok):
    found = update_causes(registry.PERSISTENT_VOLUME, a_pv(), mutate)
    assert (found == []) is ok
    if not ok:
        assert found[0][0] in ("spec.persistentvolumesource", "volumeMode")


@pytest.mark.parametrize(
    "pvc,field,reason",
    [
        (a_pvc(accessModes=[]), "spec.accessModes", "FieldValueRequired"),
        (a_pvc(resources={}), "spec.resources[storage]", "FieldValueRequired"),
        (
            a_pvc(resources={"requests": {"storage": "0"}}),
            "spec.resources[storage]",
            "FieldValueInvalid",
        ),
        (
            a_pvc(selector={"matchLabels": {"type": "host path"}}),
            "spec.selector.matchLabels",
            "FieldValueInvalid",
        ),
        (a_pvc(storageClassName="Slow"), "spec.storageClassName", "FieldValueInvalid"),
        (a_pvc(volumeMode="Raw"), "spec.volumeMode", "FieldValueNotSupported"),
        (
            a_pvc(dataSource={"kind": "Snapshot", "name": "s"}),
            "spec.dataSource",
            "FieldValueInvalid",
        ),
    ],
)
def test_pvc_rules(pvc, field, reason):
    assert (field, reason) in causes(registry.PERSISTENT_VOLUME_CLAIM, pvc)


def test_pvc_message_and_defaults():
    pvc = a_pvc(resources={})
    strategy.prepare_for_create(registry.PERSISTENT_VOLUME_CLAIM, pvc)
    assert pvc["spec"]["volumeMode"] == "Filesystem" and pvc["status"] == {"phase": "Pending"}
    found = strategy.validate_create(registry.PERSISTENT_VOLUME_CLAIM, pvc)
    assert [(c.field, c.message) for c in found] == [("spec.resources[storage]", "Required value")]


def grow(size):
    return lambda pvc: pvc["spec"]["resources"]["requests"].update(storage=size)


@pytest.mark.parametrize(
    "mutate,status,expected",
    [
        (lambda p: p["spec"].update(volumeName="pv-1"), None, []),
        (lambda p: p["spec"].update(storageClassName="standard"), None, []),
        (grow("2Gi"), {"phase": "Bound"}, []),
        (grow("2Gi"), {"phase": "Pending"}, [("spec", "FieldValueForbidden")]),
        (
            grow("512Mi"),
            {"phase": "Bound"},
            [("spec.resources.requests.storage", "FieldValueForbidden")],
        ),
        (
            lambda p: p["spec"].update(accessModes=["ReadWriteMany"]),
            {"phase": "Bound"},
            [("spec", "FieldValueForbidden")],
        ),
    ],
)
def test_pvc_updates(mutate, status, expected):
    assert update_causes(registry.PERSISTENT_VOLUME_CLAIM, a_pvc(), mutate, status) == expected


def test_bound_volume_name_is_fixed():
    found = update_causes(
        registry.PERSISTENT_VOLUME_CLAIM,
        a_pvc(volumeName="pv-1"),
        lambda p: p["spec"].update(volumeName="pv-2"),
        {"phase": "Bound"},
    )
    assert found == [("spec", "FieldValueForbidden")]


@pytest.mark.parametrize(
    "sc,field,reason",
    [
        ({"metadata": {"name": "s"}}, "provisioner", "FieldValueRequired"),
        (a_class(provisioner="not a name"), "provisioner", "FieldValueInvalid"),
        (a_class(reclaimPolicy="Recycle"), "reclaimPolicy", "FieldValueNotSupported"),
        (a_class(volumeBindingMode="Later"), "volumeBindingMode", "FieldValueNotSupported"),
    ],
)
def test_storage_class_rules(sc, field, reason):
    assert (field, reason) in causes(registry.STORAGE_CLASS, sc)


def test_storage_class_defaults():
    sc = a_class(parameters={"type": "pd-standard"}, allowVolumeExpansion=True)
    strategy.prepare_for_create(registry.STORAGE_CLASS, sc)
    assert (sc["reclaimPolicy"], sc["volumeBindingMode"]) == ("Delete", "Immediate")
    assert strategy.validate_create(registry.STORAGE_CLASS, sc) == []


@pytest.mark.parametrize(
    "mutate,field",
    [
        (lambda s: s.update(parameters={"type": "pd-ssd"}), "parameters"),
        (lambda s: s.update(provisioner="example.com/other"), "provisioner"),
        (lambda s: s.update(reclaimPolicy="Retain"), "reclaimPolicy"),
        (lambda s: s.update(volumeBindingMode="WaitForFirstConsumer"), "volumeBindingMode"),
    ],
)
def test_storage_class_updates(mutate, field):
    found = update_causes(
        registry.STORAGE_CLASS, a_class(parameters={"type": "pd-standard"}), mutate
    )
    assert [f for f, _ in found] == [field]
    assert (
        update_causes(
            registry.STORAGE_CLASS, a_class(), lambda s: s.update(allowVolumeExpansion=True)
        )
        == []
    )
