"""Server-side apply (``application/apply-patch+yaml``) with field ownership, after
structured-merge-diff's ``Updater.Apply``.

1. Merge the applied configuration into the live object: objects field by field, list-maps
   item by item on their keys, sets by value, every other list replaced (``schema.py``).
2. The applier now owns exactly the fields of its configuration.
3. Prune: a field the applier owned last time, left out now and owned by no other manager is
   removed (with whatever becomes empty because of it).
4. Conflicts: a field another manager owns whose value this apply adds or changes. Without
   ``force`` that is a 409 naming each field; with it the applier takes the field over.
5. Other managers lose fields the apply removed; the entries are written back.
"""

from __future__ import annotations

import copy
import json
from typing import cast

from berth.platform.errors import BadRequest, Cause, Invalid
from berth.platform.resources.patch import fieldpath, schema
from berth.platform.resources.patch.errors import ApplyConflict
from berth.platform.resources.patch.fieldpath import Path
from berth.platform.resources.patch.managed import (
    APPLY_OPERATION,
    Entry,
    decode,
    encode_into,
    owned_scope,
    update_managed_fields,
    without_managed_fields,
)

__all__ = ["ApplyConflict", "server_side_apply", "update_managed_fields", "ssa_merge"]


def server_side_apply(
    live: dict | None, applied: dict, manager: str, force: bool, now: str, *, subresource: str = ""
) -> dict:
    """The object after ``manager`` applies ``applied`` to ``live`` (None: it is created).
    Raises ApplyConflict (409) on conflicts unless ``force``."""
    if not manager:
        raise Invalid(
            "PatchOptions",
            "",
            [
                Cause(
                    "fieldManager",
                    "Required value: is required for apply patch",
                    "FieldValueRequired",
                )
            ],
            group="meta.k8s.io",
        )
    if not isinstance(applied, dict):
        raise BadRequest("the applied configuration must be an object")
    if (applied.get("metadata") or {}).get("managedFields") is not None:
        raise BadRequest("metadata.managedFields must be nil")
    config = _scoped_config(applied, subresource)
    current = without_managed_fields(live)
    # An object no write has recorded owners for has none: Kubernetes would hand all its
    # fields to a "before-first-apply" manager, but kubectl then migrates that manager into
    # the applier, whose next apply would prune what the server set (spec.selector).
    entries = decode(live)
    mine = Entry(
        manager,
        APPLY_OPERATION,
        str(applied.get("apiVersion", "")),
        now,
        subresource,
        owned_scope(fieldpath.field_set(config), subresource),
    )
    previous = next((e for e in entries if e.key == mine.key), None)
    others = [e for e in entries if e.key != mine.key]

    merged = ssa_merge(current, config)
    if previous is not None:
        owned = mine.fields.union(*(e.fields for e in others))
        _prune(merged, previous.fields - mine.fields, owned, set(fieldpath.walk(config)))

    added, modified, removed = fieldpath.compare(current, merged)
    # A field the configuration sets to null changes it as much as a new value does.
    touched = owned_scope(added | modified | (removed & mine.fields), subresource)
    conflicts = [(e, p) for e in others for p in sorted(e.fields & touched)]
    if conflicts and not force:
        raise _conflict_error(conflicts)
    removed = owned_scope(removed, subresource)
    for entry in others:
        entry.fields -= (touched | removed) if force else removed

    if previous is not None and fieldpath.same(current, merged) and previous.fields == mine.fields:
        mine.time = previous.time  # a no-op apply leaves the object, times included, alone
    encode_into(merged, others + [mine])
    return merged


def _scoped_config(applied: dict, subresource: str) -> dict:
    """The part of the configuration this endpoint may apply: the main resource ignores
    status, ``/status`` ignores everything but status (and the identity fields)."""
    config = without_managed_fields(applied)
    if subresource == "status":
        return {
            k: v for k, v in config.items() if k in ("apiVersion", "kind", "metadata", "status")
        }
    config.pop("status", None)
    return config


# -- merging ---------------------------------------------------------------------------------


def ssa_merge(live: dict, config: dict) -> dict:
    """Merge an applied configuration into an object (neither is modified). A null in the
    configuration removes the field."""
    return cast(dict, _merge(copy.deepcopy(live), config, ""))  # a map merged into a map


def _merge(lhs: object, rhs: object, field: str) -> object:
    if isinstance(lhs, dict) and isinstance(rhs, dict):
        out = dict(lhs)
        for key, value in rhs.items():
            if value is None:
                out.pop(key, None)
            elif key in out:
                out[key] = _merge(out[key], value, key)
            else:
                out[key] = _clean(value)
        return out
    if isinstance(lhs, list) and isinstance(rhs, list):
        kinds = {schema.list_kind(field, lhs), schema.list_kind(field, rhs)}
        if kinds == {schema.MAP}:
            return _merge_list(
                lhs,
                rhs,
                lambda v: schema.encode(schema.item_key(field, v)),
                lambda left, right: _merge(left, right, ""),
            )
        if kinds == {schema.SET}:
            return _merge_list(lhs, rhs, schema.encode, lambda left, right: _clean(right))
    return _clean(rhs)


def _clean(value: object) -> object:
    """A copy of a configuration value without its nulls."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _merge_list(lhs: list, rhs: list, key, combine) -> list:
    """structured-merge-diff's list merge: items in both keep the configuration's order, live
    items the configuration does not name stay where they were, new items go where the
    configuration puts them relative to the shared ones."""
    lkeys, rkeys = [key(v) for v in lhs], [key(v) for v in rhs]
    left, right = dict(zip(lkeys, lhs, strict=True)), dict(zip(rkeys, rhs, strict=True))
    shared = [k for k in rkeys if k in left]
    next_shared = shared.pop(0) if shared else None
    done: set[str] = set()
    out: list = []
    i = j = 0
    while i < len(lhs) or j < len(rhs):
        if i < len(lhs) and j < len(rhs):
            if lkeys[i] == rkeys[j]:
                done.add(lkeys[i])
                out.append(combine(left[lkeys[i]], right[rkeys[j]]))
                i, j = i + 1, j + 1
                next_shared = shared.pop(0) if shared else None
                continue
            if lkeys[i] in right and next_shared is not None and next_shared != lkeys[i]:
                i += 1  # a shared item whose turn has not come: the configuration orders it
                continue
        if i < len(lhs):
            if lkeys[i] not in right:
                out.append(lhs[i])
                i += 1
                continue
            if lkeys[i] in done:
                i += 1
                continue
        if j < len(rhs):
            k = rkeys[j]
            done.add(k)
            out.append(combine(left[k], right[k]) if k in left else _clean(right[k]))
            j += 1
            if next_shared is not None and next_shared == k:
                next_shared = shared.pop(0) if shared else None
    return out


# -- pruning ---------------------------------------------------------------------------------


def _prune(obj: dict, dropped: set[Path], kept: set[Path], configured: set[Path]) -> None:
    """Remove from ``obj`` the fields in ``dropped`` that no one in ``kept`` owns. A list item
    goes unless someone owns the item itself (fields others set inside it go with it, as in
    Kubernetes); an object field stays while someone owns a field under it. Then remove what
    those removals left empty, unless someone owns it or the configuration has it."""
    inside = {p[:n] for p in kept for n in range(1, len(p))}
    emptied: set[Path] = set()
    for path in sorted(dropped, key=len):
        if path in kept or _is_item_key(path):
            continue  # an item that stays keeps its key; one that goes takes its key along
        if path in inside and not path[-1].startswith(("k:", "v:")):
            continue  # an object someone else has fields in (a list item goes unless owned)
        if not fieldpath.remove(obj, path):
            continue
        emptied.update(path[:n] for n in range(1, len(path)))
    for path in sorted(emptied, key=len, reverse=True):
        node = fieldpath.find(obj, path)
        if (
            isinstance(node, (dict, list))
            and not node
            and path not in kept
            and path not in configured
        ):
            fieldpath.remove(obj, path)


def _is_item_key(path: Path) -> bool:
    if len(path) < 2 or not path[-2].startswith("k:") or not path[-1].startswith("f:"):
        return False
    return path[-1][2:] in json.loads(path[-2][2:])


# -- conflicts -------------------------------------------------------------------------------


def _conflict_error(conflicts: list[tuple[Entry, Path]]) -> ApplyConflict:
    conflicts = sorted(conflicts, key=lambda c: (c[0].key, c[1]))
    causes = [
        {
            "reason": "FieldManagerConflict",
            "message": f"conflict with {e.describe()}",
            "field": fieldpath.path_string(p),
        }
        for e, p in conflicts
    ]
    if len(conflicts) == 1:
        entry, path = conflicts[0]
        message = (
            f"Apply failed with 1 conflict: conflict with {entry.describe()}: "
            f"{fieldpath.path_string(path)}"
        )
    else:
        lines: list[str] = []
        last = None
        for entry, path in conflicts:
            if entry.key != last:
                lines.append(f"conflicts with {entry.describe()}:")
                last = entry.key
            lines.append(f"- {fieldpath.path_string(path)}")
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return ApplyConflict(message, causes)
