"""PersistentVolume, PersistentVolumeClaim and StorageClass tables."""

from datetime import UTC, datetime

from berth.platform.api.tables import to_table
from berth.platform.resources import registry

NOW = datetime(2026, 11, 25, 19, 26, 44, tzinfo=UTC)


def cells(rt, obj):
    obj.setdefault("metadata", {}).setdefault("creationTimestamp", "2026-11-25T19:25:44Z")
    return to_table(rt, [obj], now=NOW, resource_version="1")["rows"][0]["cells"]


def names(rt):
    return [c["name"] for c in to_table(rt, [], now=NOW, resource_version="1")["columnDefinitions"]]


def test_persistent_volume_row():
    pv = {
        "metadata": {"name": "pv-1"},
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteMany", "ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": "standard",
            "claimRef": {"namespace": "default", "name": "data"},
        },
        "status": {"phase": "Bound"},
    }
    assert names(registry.PERSISTENT_VOLUME) == [
        "Name",
        "Capacity",
        "Access Modes",
        "Reclaim Policy",
        "Status",
        "Claim",
        "StorageClass",
        "VolumeAttributesClass",
        "Reason",
        "Age",
        "VolumeMode",
    ]
    assert cells(registry.PERSISTENT_VOLUME, pv) == [
        "pv-1",
        "1Gi",
        "RWO,RWX",
        "Delete",
        "Bound",
        "default/data",
        "standard",
        "<unset>",
        "",
        "60s",
        "<unset>",
    ]


def test_persistent_volume_terminating_and_beta_class_annotation():
    pv = {
        "metadata": {
            "name": "pv-2",
            "deletionTimestamp": "2026-11-25T19:26:00Z",
            "annotations": {"volume.beta.kubernetes.io/storage-class": "old"},
        },
        "spec": {"storageClassName": "new", "volumeMode": "Filesystem"},
        "status": {"phase": "Released", "reason": "Gone"},
    }
    row = cells(registry.PERSISTENT_VOLUME, pv)
    assert (row[1], row[4], row[5], row[6], row[8], row[10]) == (
        "0",
        "Terminating",
        "",
        "old",
        "Gone",
        "Filesystem",
    )


def test_claims_show_capacity_only_once_bound():
    pending = {
        "metadata": {"name": "data"},
        "spec": {"resources": {"requests": {"storage": "1Gi"}}, "storageClassName": "standard"},
        "status": {"phase": "Pending"},
    }
    assert cells(registry.PERSISTENT_VOLUME_CLAIM, pending) == [
        "data",
        "Pending",
        "",
        "",
        "",
        "standard",
        "<unset>",
        "60s",
        "<unset>",
    ]
    bound = {
        "metadata": {"name": "data"},
        "spec": {"volumeName": "pv-1", "storageClassName": "standard"},
        "status": {
            "phase": "Bound",
            "capacity": {"storage": "2Gi"},
            "accessModes": ["ReadWriteOnce"],
        },
    }
    assert cells(registry.PERSISTENT_VOLUME_CLAIM, bound)[:5] == [
        "data",
        "Bound",
        "pv-1",
        "2Gi",
        "RWO",
    ]


def test_storage_class_marks_the_default():
    sc = {
        "metadata": {
            "name": "standard",
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": "berth.io/local",
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": True,
    }
    assert cells(registry.STORAGE_CLASS, sc) == [
        "standard (default)",
        "berth.io/local",
        "Delete",
        "WaitForFirstConsumer",
        True,
        "60s",
    ]
    plain = {"metadata": {"name": "fast"}, "provisioner": "p", "reclaimPolicy": "Retain"}
    assert cells(registry.STORAGE_CLASS, plain) == [
        "fast",
        "p",
        "Retain",
        "Immediate",
        False,
        "60s",
    ]
