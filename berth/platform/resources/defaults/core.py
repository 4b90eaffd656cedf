"""Defaults of Namespaces, Secrets, Nodes, PersistentVolumes, PersistentVolumeClaims and
StorageClasses."""

from __future__ import annotations

import base64

from berth.platform.resources.defaults.pod import default_claim_spec

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def default_namespace(ns: dict) -> None:
    """Every Namespace carries its own name as a label, whatever the user put there."""
    md = ns.get("metadata")
    if isinstance(md, dict) and md.get("name"):
        if not isinstance(md.get("labels"), dict):
            md["labels"] = {}
        md["labels"][NAMESPACE_NAME_LABEL] = md["name"]


def default_secret(secret: dict) -> None:
    """Type ``Opaque``; ``stringData`` is written into ``data`` (base64) and dropped, its
    keys winning over the same keys in ``data``."""
    if not secret.get("type"):
        secret["type"] = "Opaque"
    string_data = secret.pop("stringData", None)
    if not isinstance(string_data, dict) or not string_data:
        return
    if not isinstance(secret.get("data"), dict):
        secret["data"] = {}
    for key, value in string_data.items():
        secret["data"][key] = base64.b64encode(_text(value).encode()).decode()


def _text(value: object) -> str:
    """A ``stringData`` value; YAML may have made a number or boolean of it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def default_node(node: dict) -> None:
    """A Node that reports capacity but no allocatable can allocate all of it."""
    status = node.get("status")
    if (
        isinstance(status, dict)
        and isinstance(status.get("capacity"), dict)
        and status.get("allocatable") is None
    ):
        status["allocatable"] = dict(status["capacity"])


def default_pv(pv: dict) -> None:
    spec = pv.get("spec")
    if isinstance(spec, dict):
        if not spec.get("persistentVolumeReclaimPolicy"):
            spec["persistentVolumeReclaimPolicy"] = "Retain"
        if not spec.get("volumeMode"):
            spec["volumeMode"] = "Filesystem"
        host_path = spec.get("hostPath")
        if isinstance(host_path, dict) and host_path.get("type") is None:
            host_path["type"] = ""
    _pending(pv)


def default_pvc(pvc: dict) -> None:
    if isinstance(pvc.get("spec"), dict):
        default_claim_spec(pvc["spec"])
    _pending(pvc)


def _pending(obj: dict) -> None:
    status = obj.get("status")
    if status is None:
        status = obj["status"] = {}
    if isinstance(status, dict) and not status.get("phase"):
        status["phase"] = "Pending"


def default_storage_class(sc: dict) -> None:
    if not sc.get("reclaimPolicy"):
        sc["reclaimPolicy"] = "Delete"
    if not sc.get("volumeBindingMode"):
        sc["volumeBindingMode"] = "Immediate"
