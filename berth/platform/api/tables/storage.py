"""Tables for PersistentVolumes, PersistentVolumeClaims and StorageClasses (printers.go)."""

from __future__ import annotations

from datetime import datetime

from berth.platform.api.tables.format import (
    Printer,
    access_modes,
    age,
    age_column,
    column,
    name_column,
    quantity_text,
)
from berth.platform.resources.meta import dig

_BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
_DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)


def _storage_class_of(obj: dict) -> str:
    """``GetPersistentVolume(Claim)Class``: the beta annotation wins over the field."""
    annotated = dig(obj, "metadata", "annotations", _BETA_CLASS_ANNOTATION)
    return annotated if annotated else dig(obj, "spec", "storageClassName", default="")


def _phase(obj: dict) -> str:
    if dig(obj, "metadata", "deletionTimestamp"):
        return "Terminating"
    return dig(obj, "status", "phase", default="")


def _pv_cells(pv: dict, now: datetime) -> list:
    claim = dig(pv, "spec", "claimRef")
    claim_text = f"{claim.get('namespace', '')}/{claim.get('name', '')}" if claim else ""
    return [
        dig(pv, "metadata", "name", default=""),
        quantity_text(dig(pv, "spec", "capacity", "storage")),
        access_modes(dig(pv, "spec", "accessModes")),
        dig(pv, "spec", "persistentVolumeReclaimPolicy", default=""),
        _phase(pv),
        claim_text,
        _storage_class_of(pv),
        dig(pv, "spec", "volumeAttributesClassName", default="<unset>"),
        dig(pv, "status", "reason", default=""),
        age(pv, now),
        dig(pv, "spec", "volumeMode", default="<unset>"),
    ]


PERSISTENT_VOLUME = Printer(
    columns=(
        name_column(),
        column(
            "Capacity",
            description="capacity is the description of the persistent "
            "volume's resources and capacity.",
        ),
        column(
            "Access Modes", description="accessModes contains all ways the volume can be mounted."
        ),
        column(
            "Reclaim Policy",
            description="persistentVolumeReclaimPolicy defines what "
            "happens to a persistent volume when released "
            "from its claim.",
        ),
        column(
            "Status",
            description="phase indicates if a volume is available, bound to a "
            "claim, or released by a claim.",
        ),
        column(
            "Claim",
            description="claimRef is part of a bi-directional binding between "
            "PersistentVolume and PersistentVolumeClaim.",
        ),
        column("StorageClass", description="StorageClass of the pv"),
        column("VolumeAttributesClass", description="VolumeAttributesClass of the pv"),
        column(
            "Reason", description="reason is a brief CamelCase string that describes any failure."
        ),
        age_column(),
        column(
            "VolumeMode",
            priority=1,
            description="volumeMode defines if a volume is "
            "intended to be used with a formatted "
            "filesystem or a raw block device.",
        ),
    ),
    cells=_pv_cells,
)


def _pvc_cells(pvc: dict, now: datetime) -> list:
    capacity = modes = ""
    if dig(pvc, "spec", "volumeName"):
        modes = access_modes(dig(pvc, "status", "accessModes"))
        capacity = quantity_text(dig(pvc, "status", "capacity", "storage"))
    return [
        dig(pvc, "metadata", "name", default=""),
        _phase(pvc),
        dig(pvc, "spec", "volumeName", default=""),
        capacity,
        modes,
        _storage_class_of(pvc),
        dig(pvc, "spec", "volumeAttributesClassName", default="<unset>"),
        age(pvc, now),
        dig(pvc, "spec", "volumeMode", default="<unset>"),
    ]


PERSISTENT_VOLUME_CLAIM = Printer(
    columns=(
        name_column(),
        column(
            "Status", description="phase represents the current phase of PersistentVolumeClaim."
        ),
        column(
            "Volume",
            description="volumeName is the binding reference to the "
            "PersistentVolume backing this claim.",
        ),
        column(
            "Capacity",
            description="capacity represents the actual resources of the underlying volume.",
        ),
        column(
            "Access Modes",
            description="accessModes contains the actual access modes "
            "the volume backing the PVC has.",
        ),
        column("StorageClass", description="StorageClass of the pvc"),
        column("VolumeAttributesClass", description="VolumeAttributesClass of the pvc"),
        age_column(),
        column(
            "VolumeMode",
            priority=1,
            description="volumeMode defines what type of volume is required by the claim.",
        ),
    ),
    cells=_pvc_cells,
)


def _storage_class_cells(sc: dict, now: datetime) -> list:
    name = dig(sc, "metadata", "name", default="")
    annotations = dig(sc, "metadata", "annotations") or {}
    if any(annotations.get(a) == "true" for a in _DEFAULT_CLASS_ANNOTATIONS):
        name += " (default)"
    return [
        name,
        sc.get("provisioner") or "",
        sc.get("reclaimPolicy") or "Delete",
        sc.get("volumeBindingMode") or "Immediate",
        bool(sc.get("allowVolumeExpansion")),
        age(sc, now),
    ]


STORAGE_CLASS = Printer(
    columns=(
        name_column(),
        column("Provisioner", description="provisioner indicates the type of the provisioner."),
        column(
            "ReclaimPolicy",
            description="reclaimPolicy controls the reclaimPolicy for "
            "dynamically provisioned PersistentVolumes.",
        ),
        column(
            "VolumeBindingMode",
            description="volumeBindingMode indicates how "
            "PersistentVolumeClaims should be "
            "provisioned and bound.",
        ),
        column(
            "AllowVolumeExpansion",
            description="allowVolumeExpansion shows whether the storage class allow volume expand.",
        ),
        age_column(),
    ),
    cells=_storage_class_cells,
)
