"""The built-in dynamic provisioner ``berth.io/local-path``: a directory per claim under one
root, served to pods as a ``hostPath`` PersistentVolume.

The control plane makes and removes the directories, so every node must see the root at the
same path: true of the embedded node; in a cluster the root must be a shared filesystem
(``Settings.volume_root``). The volume carries no node affinity for that reason.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from berth.platform.controllers.volume.matching import PROVISIONED_BY
from berth.platform.errors import AlreadyExists
from berth.platform.resources import registry, storageclasses
from berth.platform.store.client import Client

LOCAL_PATH = "berth.io/local-path"
DEFAULT_CLASS_NAME = "local-path"


def volume_name(claim: dict) -> str:
    """Kubernetes' name for a provisioned volume: ``pvc-<claim uid>``. Deterministic, so a
    provisioning retried after a crash finds the volume it made instead of making another."""
    return f"pvc-{claim['metadata']['uid']}"


def claim_ref(claim: dict) -> dict:
    md = claim["metadata"]
    return {
        "kind": "PersistentVolumeClaim",
        "apiVersion": "v1",
        "namespace": md["namespace"],
        "name": md["name"],
        "uid": md["uid"],
        "resourceVersion": md.get("resourceVersion", ""),
    }


def default_class() -> dict:
    """The class ``berth up`` creates when the cluster has no default class."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": DEFAULT_CLASS_NAME,
            "annotations": {storageclasses.DEFAULT_CLASS_ANNOTATION: "true"},
        },
        "provisioner": LOCAL_PATH,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
    }


class LocalPathProvisioner:
    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    def directory(self, claim: dict) -> Path:
        md = claim["metadata"]
        return self.root / f"{volume_name(claim)}_{md['namespace']}_{md['name']}"

    def volume_for(self, claim: dict, sc: dict) -> dict:
        """The PersistentVolume that serves ``claim`` (made with ``make_directory``),
        reserved for it through ``claimRef`` so only it can bind there."""
        spec = claim.get("spec") or {}
        requests = (spec.get("resources") or {}).get("requests") or {}
        pv_spec = {
            "capacity": {"storage": requests.get("storage", "0")},
            "accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]),
            "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy") or "Delete",
            "storageClassName": sc["metadata"]["name"],
            "volumeMode": spec.get("volumeMode") or "Filesystem",
            "hostPath": {"path": str(self.directory(claim)), "type": "DirectoryOrCreate"},
            "claimRef": claim_ref(claim),
        }
        if sc.get("mountOptions"):
            pv_spec["mountOptions"] = list(sc["mountOptions"])
        return {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": volume_name(claim), "annotations": {PROVISIONED_BY: LOCAL_PATH}},
            "spec": pv_spec,
        }

    def make_directory(self, claim: dict) -> Path:
        path = self.directory(claim)
        path.mkdir(parents=True, exist_ok=True)
        # Containers may run as any user: the volume is theirs to write, as local-path's is.
        os.chmod(path, 0o777)
        return path

    def owns(self, pv: dict) -> bool:
        annotations = (pv.get("metadata") or {}).get("annotations") or {}
        return annotations.get(PROVISIONED_BY) == LOCAL_PATH

    def delete(self, pv: dict) -> None:
        """Remove a provisioned volume's directory; refuses a path outside the root (a
        volume someone edited to point elsewhere is not ours to wipe)."""
        path = Path(((pv.get("spec") or {}).get("hostPath") or {}).get("path") or "")
        resolved = path.resolve()
        if resolved.parent != self.root:
            raise ValueError(f"{path} is not a directory of the local-path root {self.root}")
        if resolved.exists():
            shutil.rmtree(resolved)


def ensure_default_class(client: Client) -> dict | None:
    """Create the ``local-path`` class, marked default, when no class is the default; the
    class created, or None when there was one already."""
    classes = client.list(registry.STORAGE_CLASS).items
    if storageclasses.default_class(classes) is not None or any(
        sc["metadata"]["name"] == DEFAULT_CLASS_NAME for sc in classes
    ):
        return None
    try:
        return client.create(registry.STORAGE_CLASS, default_class())
    except AlreadyExists:
        return None
