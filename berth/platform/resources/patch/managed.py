"""``metadata.managedFields``: which manager owns which fields, and how a write changes that.

Each entry is one manager identity — name, operation (``Apply`` or ``Update``), subresource
and, for ``Update`` only, apiVersion — with the set of fields it owns, encoded as ``fieldsV1``.
Writes that are not server-side apply (create, update, the three other patch types) go
through ``update_managed_fields``: the writer takes every field it changed, the others lose
what it changed or removed. Server-side apply (``apply.py``) adds conflicts on top.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from berth.platform.resources.patch import fieldpath
from berth.platform.resources.patch.fieldpath import Path

APPLY_OPERATION, UPDATE_OPERATION = "Apply", "Update"
FIELDS_V1 = "FieldsV1"

# Fields no manager owns: identity and bookkeeping the server sets (k8s ``stripMeta``).
_NEVER_OWNED: frozenset[Path] = frozenset(
    {
        ("f:apiVersion",),
        ("f:kind",),
        ("f:metadata",),
        *(
            ("f:metadata", "f:" + f)
            for f in (
                "name",
                "namespace",
                "creationTimestamp",
                "selfLink",
                "uid",
                "generation",
                "resourceVersion",
            )
        ),
    }
)
_MANAGED_FIELDS: Path = ("f:metadata", "f:managedFields")
_STATUS: Path = ("f:status",)


@dataclass
class Entry:
    manager: str
    operation: str
    api_version: str
    time: str | None
    subresource: str = ""
    fields: set[Path] = field(default_factory=set)

    @property
    def key(self) -> tuple[str, str, str, str]:
        # An Update manager is one per apiVersion; an applier is one whatever its version.
        version = self.api_version if self.operation == UPDATE_OPERATION else ""
        return (self.manager, self.operation, self.subresource, version)

    def describe(self) -> str:
        """How conflicts name a manager: ``"kubectl-client-side-apply" using batch/v1``."""
        out = f'"{self.manager}"'
        if self.subresource:
            out += f' with subresource "{self.subresource}"'
        if self.operation == UPDATE_OPERATION:
            out += f" using {self.api_version}"
        return out

    def encode(self) -> dict:
        out: dict[str, object] = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
        }
        if self.time:
            out["time"] = self.time
        out["fieldsType"] = FIELDS_V1
        out["fieldsV1"] = fieldpath.to_fields_v1(self.fields)
        if self.subresource:
            out["subresource"] = self.subresource
        return out


def owned_scope(paths: set[Path], subresource: str = "") -> set[Path]:
    """The paths a write through ``subresource`` can own: never the server's bookkeeping;
    status only through ``/status``, and nothing else through it."""
    out = {p for p in paths if p not in _NEVER_OWNED and p[:2] != _MANAGED_FIELDS}
    if subresource == "status":
        return {p for p in out if p[:1] == _STATUS}
    return {p for p in out if p[:1] != _STATUS}


def decode(obj: dict | None) -> list[Entry]:
    """The entries of ``obj``; malformed ones are dropped rather than failing the write."""
    entries: dict[tuple, Entry] = {}
    raw = ((obj or {}).get("metadata") or {}).get("managedFields")
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("manager"), str):
            continue
        if item.get("operation") not in (APPLY_OPERATION, UPDATE_OPERATION):
            continue
        if item.get("fieldsType", FIELDS_V1) != FIELDS_V1:
            continue
        entry = Entry(
            item["manager"],
            item["operation"],
            str(item.get("apiVersion") or ""),
            item.get("time") if isinstance(item.get("time"), str) else None,
            str(item.get("subresource") or ""),
            fieldpath.from_fields_v1(item.get("fieldsV1")),
        )
        if entry.key in entries:
            entries[entry.key].fields |= entry.fields
        else:
            entries[entry.key] = entry
    return list(entries.values())


def encode_into(obj: dict, entries: list[Entry]) -> None:
    """Write ``entries`` (the empty ones dropped) in the order kube-apiserver sorts them."""
    kept = sorted(
        (e for e in entries if e.fields),
        key=lambda e: (e.operation, e.time or "", e.manager, e.api_version, e.subresource),
    )
    md = obj.setdefault("metadata", {})
    if kept:
        md["managedFields"] = [e.encode() for e in kept]
    else:
        md.pop("managedFields", None)


def without_managed_fields(obj: dict | None) -> dict:
    """A deep copy of ``obj`` (``{}`` for None) with no ``metadata.managedFields``."""
    if obj is None:
        return {}
    out = copy.copy(obj)
    md = out.get("metadata")
    if isinstance(md, dict) and "managedFields" in md:
        out["metadata"] = {k: v for k, v in md.items() if k != "managedFields"}
    return copy.deepcopy(out)


def _ownership_view(obj: dict | None) -> dict:
    """``obj`` without ``metadata.managedFields``, sharing everything else with it: for
    ``fieldpath.compare``, which only reads. (The deep copy ``without_managed_fields`` made
    here was ~40 copies per Job write and a third of this function's time.)"""
    if obj is None:
        return {}
    md = obj.get("metadata")
    if isinstance(md, dict) and "managedFields" in md:
        return {**obj, "metadata": {k: v for k, v in md.items() if k != "managedFields"}}
    return obj


def update_managed_fields(
    old: dict | None,
    new: dict,
    manager: str,
    operation: str,
    api_version: str,
    now: str,
    *,
    subresource: str = "",
) -> None:
    """Record in ``new`` (in place) that ``manager`` wrote it over ``old`` (None on create).

    The entries come from ``new`` when its writer sent any (kube-apiserver lets clients edit
    them), otherwise from ``old``. The writer takes ownership of every field it added or
    changed; every other manager loses those fields and any the writer removed. Nothing
    changed leaves the entries (and their times) as they were."""
    entries = decode(new) if not subresource else []
    if not entries:
        entries = decode(old)
    before, after = _ownership_view(old), _ownership_view(new)
    added, modified, removed = fieldpath.compare(before, after)
    changed = owned_scope(added | modified, subresource)
    removed = owned_scope(removed, subresource)
    mine = Entry(manager, operation, api_version, now, subresource)
    previous = None
    for entry in entries:
        entry.fields -= changed | removed
        if entry.key == mine.key:
            previous = entry
    if changed:
        if previous is None:
            entries.append(mine)
            previous = mine
        previous.fields |= changed
        previous.time, previous.api_version = now, api_version
    encode_into(new, entries)
