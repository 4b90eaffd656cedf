"""``meta.k8s.io/v1`` Table responses: what ``kubectl get`` prints.

kubectl asks for ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io`` and prints the
columns the server sends, so the columns and cell formatting here follow the API server's
printers (kubernetes/pkg/printers/internalversion/printers.go). Like the API server, every
column is always sent; kubectl hides the priority-1 columns unless asked for ``-o wide``.
"""

from __future__ import annotations

from datetime import datetime

from berth.platform.api.tables import cluster, storage, workloads
from berth.platform.api.tables.format import Printer, column, human_duration, name_column
from berth.platform.errors import BadRequest
from berth.platform.resources.meta import dig
from berth.platform.resources.registry import ResourceType

__all__ = ["INCLUDE_OBJECT_VALUES", "human_duration", "printer_for", "to_table"]

INCLUDE_OBJECT_VALUES = ("None", "Metadata", "Object")

_PRINTERS: dict[tuple[str, str], Printer] = {
    ("batch", "Job"): workloads.JOB,
    ("batch", "CronJob"): workloads.CRON_JOB,
    ("", "Pod"): workloads.POD,
    ("", "Node"): cluster.NODE,
    ("", "Namespace"): cluster.NAMESPACE,
    ("", "ConfigMap"): cluster.CONFIG_MAP,
    ("", "Secret"): cluster.SECRET,
    ("", "Event"): cluster.EVENT,
    ("coordination.k8s.io", "Lease"): cluster.LEASE,
    ("", "PersistentVolume"): storage.PERSISTENT_VOLUME,
    ("", "PersistentVolumeClaim"): storage.PERSISTENT_VOLUME_CLAIM,
    ("storage.k8s.io", "StorageClass"): storage.STORAGE_CLASS,
}

# The API server's default for kinds without a printer: the name and when it was created.
_DEFAULT = Printer(
    columns=(
        name_column(),
        column(
            "Created At",
            type_="date",
            description="CreationTimestamp is a timestamp representing "
            "the server time when this object was created.",
        ),
    ),
    cells=lambda obj, now: [
        dig(obj, "metadata", "name", default=""),
        dig(obj, "metadata", "creationTimestamp", default=""),
    ],
)


def printer_for(rt: ResourceType) -> Printer:
    return _PRINTERS.get((rt.group, rt.kind), _DEFAULT)


def to_table(
    rt: ResourceType,
    objects: list[dict],
    *,
    include_object: str = "Metadata",
    now: datetime,
    resource_version: str,
    continue_token: str | None = None,
    remaining: int | None = None,
) -> dict:
    """The Table for a list (or a single object, as a list of one) of ``rt`` objects.

    ``include_object`` is the request's ``includeObject`` option: each row then carries a
    PartialObjectMetadata (``Metadata``, kubectl's default), the whole object (``Object``) or
    nothing (``None``). Raises ``BadRequest`` for any other value.
    """
    if include_object not in INCLUDE_OBJECT_VALUES:
        raise BadRequest(
            f"includeObject: unsupported value {include_object!r}: supported "
            f"values: {', '.join(INCLUDE_OBJECT_VALUES)}"
        )
    printer = printer_for(rt)
    rows = []
    for obj in objects:
        row: dict = {"cells": printer.cells(obj, now)}
        conditions = printer.conditions(obj) if printer.conditions else []
        if conditions:
            row["conditions"] = conditions
        row["object"] = _row_object(rt, obj, include_object)
        rows.append(row)
    metadata: dict = {"resourceVersion": resource_version}
    if continue_token:
        metadata["continue"] = continue_token
    if remaining is not None:
        metadata["remainingItemCount"] = remaining
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": [dict(c) for c in printer.columns],
        "rows": rows,
    }


def _row_object(rt: ResourceType, obj: dict, include_object: str) -> dict | None:
    if include_object == "None":
        return None
    if include_object == "Metadata":
        return {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata") or {},
        }
    return {"apiVersion": rt.api_version, "kind": rt.kind, **obj}
