"""What becomes of a volume whose claim is gone: its ``persistentVolumeReclaimPolicy``, as a
pure decision the binder carries out."""

from __future__ import annotations

from typing import NamedTuple

KEEP, DELETE, FAIL = "keep", "delete", "fail"


class Reclaim(NamedTuple):
    action: str  # KEEP (Retain), DELETE (remove directory and volume), FAIL
    reason: str = ""  # the Event's reason when the volume fails
    message: str = ""


def decide(pv: dict, provisioned_here: bool) -> Reclaim:
    """Retain keeps the volume Released; Delete removes a volume Berth provisioned; a static
    volume with Delete (an NFS export, a disk) cannot be deleted by Berth, nor can any volume
    be recycled (deprecated in Kubernetes): those become Failed, saying why."""
    policy = ((pv.get("spec") or {}).get("persistentVolumeReclaimPolicy")) or "Retain"
    name = (pv.get("metadata") or {}).get("name", "")
    if policy == "Retain":
        return Reclaim(KEEP)
    if policy == "Delete" and provisioned_here:
        return Reclaim(DELETE)
    if policy == "Delete":
        return Reclaim(
            FAIL,
            "VolumeFailedDelete",
            f"error getting deleter volume plugin for "
            f'volume "{name}": no deletable volume plugin matched',
        )
    return Reclaim(FAIL, "VolumeFailedRecycle", "Recycle is not supported by Berth")
