"""JSON merge patch (RFC 7386): objects merge key by key, ``null`` deletes, anything else
(lists included) replaces."""

from __future__ import annotations

import copy

from berth.platform.resources.patch.fieldpath import same


def merge_patch(target: object, patch: object) -> object:
    """Apply ``patch`` to ``target``; neither is modified."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def create_merge_patch(original: object, modified: object) -> object:
    """The merge patch that turns ``original`` into ``modified`` (nulls inside ``modified``
    cannot be expressed by RFC 7386 and are not expected)."""
    if not isinstance(original, dict) or not isinstance(modified, dict):
        return copy.deepcopy(modified)
    patch: dict = {key: None for key in original if key not in modified}
    for key, value in modified.items():
        if key not in original:
            patch[key] = copy.deepcopy(value)
        elif not same(original[key], value):
            if isinstance(value, dict) and isinstance(original[key], dict):
                patch[key] = create_merge_patch(original[key], value)
            else:
                patch[key] = copy.deepcopy(value)
    return patch
