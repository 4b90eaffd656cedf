"""Strategic merge patch, as apimachinery ``strategicpatch.StrategicMergeMapPatch`` applies it
on the server (parallel lists merged, unmatched nulls ignored).

Objects merge key by key and ``null`` deletes a key. Lists named in ``schema.MERGE_KEYS``
merge item by item on their merge key, lists in ``schema.MERGED_SCALAR_LISTS`` are unions,
every other list is replaced. Directives: ``$patch: replace|delete`` on an object or a list
item, ``$retainKeys``, ``$deleteFromPrimitiveList/<list>`` and ``$setElementOrder/<list>``,
the ordering directive ``kubectl apply`` sends with every changed merge list.

Order of a merged list follows Kubernetes: ``$setElementOrder`` first, then the order of the
patch list, then the order of the live list, items from the patch placed before the live-only
items that do not precede them in the live list.
"""

from __future__ import annotations

import copy
import json
from typing import cast

from berth.platform.errors import BadRequest
from berth.platform.resources.patch import schema
from berth.platform.resources.patch.errors import PatchRejected
from berth.platform.resources.patch.fieldpath import same

DIRECTIVE = "$patch"
DELETE, REPLACE, MERGE = "delete", "replace", "merge"
RETAIN_KEYS = "$retainKeys"
DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList"
SET_ELEMENT_ORDER = "$setElementOrder"

# apimachinery mergepatch error texts.
ERR_PRIMITIVE_LIST = "invalid patch format of primitive list"
ERR_RETAIN_KEYS = "invalid patch format of retainKeys"
ERR_SET_ELEMENT_ORDER = "invalid patch format of setElementOrder list"
ERR_RETAIN_KEYS_CONTENT = "patch content doesn't match retainKeys list"
ERR_LIST_OF_LISTS = "lists of lists are not supported"

_ABSENT = object()


def strategic_merge_patch(original: dict, patch: dict) -> dict:
    """Apply ``patch`` to ``original``; neither is modified."""
    if not isinstance(patch, dict):
        raise BadRequest(
            f"json: cannot unmarshal {type(patch).__name__} into Go value of type "
            "map[string]interface {}"
        )
    return _merge_map(copy.deepcopy(original), copy.deepcopy(patch))


def _merge_map(original: dict, patch: dict) -> dict:
    if DIRECTIVE in patch:
        return _map_directive(patch)
    _apply_retain_keys(original, patch)
    _merge_ordered_lists(original, patch)
    for key, value in patch.items():
        if key.startswith(DELETE_FROM_PRIMITIVE_LIST):
            _delete_from_list(
                original, _target(key, DELETE_FROM_PRIMITIVE_LIST, ERR_PRIMITIVE_LIST), value
            )
            continue
        if key.startswith("$"):
            continue  # a directive this server does not know has no field to land in
        if value is None:
            original.pop(key, None)
        elif key not in original:
            original[key] = _fresh(key, value)
        elif isinstance(original[key], dict) and isinstance(value, dict):
            original[key] = _merge_map(original[key], value)
        elif isinstance(original[key], list) and isinstance(value, list):
            original[key] = _merge_list(key, original[key], value)
        else:
            original[key] = _fresh(key, value)
    return original


def _fresh(key: str, value: object) -> object:
    """A patch value with nothing under it yet: still strip its nulls and directives."""
    if isinstance(value, dict):
        return _merge_map({}, value)
    if isinstance(value, list):
        return _merge_list(key, [], value)
    return value


def _map_directive(patch: dict) -> dict:
    directive = patch.pop(DIRECTIVE)
    if directive == REPLACE:
        return _merge_map({}, patch)
    if directive == DELETE:
        return {}  # Kubernetes empties the object rather than dropping its key
    raise BadRequest(f"unknown patch type: {directive} in map: {_show(patch)}")


def _target(key: str, prefix: str, error: str) -> str:
    head, _, field = key.partition("/")
    if head != prefix or not field:
        raise BadRequest(error)
    return field


def _delete_from_list(original: dict, field: str, values: object) -> None:
    if not isinstance(values, list):
        raise BadRequest(ERR_PRIMITIVE_LIST)
    current = original.get(field)
    if isinstance(current, list):
        original[field] = [v for v in current if not any(same(v, d) for d in values)]


def _apply_retain_keys(original: dict, patch: dict) -> None:
    if RETAIN_KEYS not in patch:
        return
    keep = patch.pop(RETAIN_KEYS)
    if not isinstance(keep, list):
        raise BadRequest(ERR_RETAIN_KEYS)
    allowed = {k for k in keep if isinstance(k, str)}
    for key, value in patch.items():
        if value is None or key.startswith((DELETE_FROM_PRIMITIVE_LIST, SET_ELEMENT_ORDER)):
            continue
        if key not in allowed:
            raise PatchRejected(ERR_RETAIN_KEYS_CONTENT)
    for key in [k for k in original if k not in allowed]:
        del original[key]


# -- lists -----------------------------------------------------------------------------------


def _merge_list(field: str, original: list, patch: list) -> list:
    if field in schema.MERGE_KEYS or field in schema.MERGED_SCALAR_LISTS:
        return _merge_slice(field, original, patch, schema.MERGE_KEYS.get(field, ""))
    return patch


def _merge_slice(field: str, original: list, patch: list, merge_key: str) -> list:
    if not original and not patch:
        return original
    maps = _element_kind(original + patch) == "map"
    if not maps:
        merged = _dedupe(original + patch)
        merge_key = ""
    else:
        if not merge_key:
            raise BadRequest(f"cannot merge lists without merge key for {field}")
        original, patch = _special_elements(original, patch, merge_key)
        merged = _merge_items(original, patch, merge_key)
    patch_items, server_only = _partition(merged, patch, merge_key)
    return _normalize_order(patch_items, server_only, patch, original, merge_key)


def _element_kind(items: list) -> str:
    kinds = {
        "map" if isinstance(v, dict) else "list" if isinstance(v, list) else "scalar" for v in items
    }
    if "list" in kinds:
        raise PatchRejected(ERR_LIST_OF_LISTS)
    if len(kinds) > 1:
        raise BadRequest(f"list element types are not identical: {_show(items)}")
    return kinds.pop()


def _dedupe(items: list) -> list:
    out: list = []
    for item in items:
        if not any(same(item, seen) for seen in out):
            out.append(item)
    return out


def _special_elements(original: list, patch: list, key: str) -> tuple[list, list]:
    """Apply the ``$patch`` items of a merge list: ``delete`` drops live items with that key,
    ``replace`` makes the rest of the patch list the whole list."""
    rest, replace = [], False
    for item in patch:
        if DIRECTIVE not in item:
            rest.append(item)
            continue
        directive = item[DIRECTIVE]
        if directive == DELETE:
            if key not in item:
                raise BadRequest(_no_merge_key(item, key))
            original = [v for v in original if not same(_identity(v, key), item[key])]
        elif directive == REPLACE:
            replace = True
        elif directive == MERGE:
            raise BadRequest("merging lists cannot yet be specified in the patch")
        else:
            raise BadRequest(f"unknown patch type: {directive} in map: {_show(item)}")
    if replace:
        return [_merge_map({}, item) for item in rest], []
    return original, rest


def _merge_items(original: list, patch: list, key: str) -> list:
    merged = list(original)
    for item in patch:
        if key not in item:
            raise BadRequest(_no_merge_key(item, key))
        index = _index(merged, item, key)
        if index >= 0:
            merged[index] = _merge_map(merged[index], item)
        else:
            merged.append(_merge_map({}, item))
    return merged


def _identity(item: object, key: str) -> object:
    if key and isinstance(item, dict):
        return item.get(key, _ABSENT)
    return item


def _index(items: list, item: object, key: str) -> int:
    wanted = _identity(item, key)
    for i, candidate in enumerate(items):
        if same(_identity(candidate, key), wanted) and wanted is not _ABSENT:
            return i
    return -1


def _partition(merged: list, present_in: list, key: str) -> tuple[list, list]:
    inside, outside = [], []
    for item in merged:
        (inside if _index(present_in, item, key) >= 0 else outside).append(item)
    return inside, outside


def _normalize_order(
    patch_items: list, server_only: list, patch_order: list, server_order: list, key: str
) -> list:
    """Patch items in patch order, live-only items in live order, then interleaved: a live-only
    item goes first only when the live list had it before the next patch item."""
    patch_items = _sorted_by(patch_items, patch_order, key)
    server_only = _sorted_by(server_only, server_order, key)
    out, i, j = [], 0, 0
    while i < len(server_only) or j < len(patch_items):
        if i >= len(server_only):
            out.append(patch_items[j])
            j += 1
        elif j >= len(patch_items):
            out.append(server_only[i])
            i += 1
        else:
            left = _index(server_order, server_only[i], key)
            right = _index(server_order, patch_items[j], key)
            if left >= 0 and right >= 0 and left < right:
                out.append(server_only[i])
                i += 1
            else:
                out.append(patch_items[j])
                j += 1
    return out


def _sorted_by(items: list, order: list, key: str) -> list:
    def position(item: object) -> int:
        index = _index(order, item, key)
        return index if index >= 0 else len(order)

    return sorted(items, key=position)


def _merge_ordered_lists(original: dict, patch: dict) -> None:
    """Merge each list that has a ``$setElementOrder`` and put it in that order."""
    for directive in [k for k in patch if k.startswith(SET_ELEMENT_ORDER)]:
        order = patch.pop(directive)
        field = _target(directive, SET_ELEMENT_ORDER, ERR_SET_ELEMENT_ORDER)
        if not isinstance(order, list):
            raise BadRequest(ERR_SET_ELEMENT_ORDER)
        live = original.get(field)
        live = live if isinstance(live, list) else None
        wanted = patch.get(field, _ABSENT)
        if wanted is not _ABSENT and not isinstance(wanted, list):
            continue  # a null or a scalar: the plain merge below handles it, unordered
        key = schema.MERGE_KEYS.get(field, "")
        patch_list = [] if wanted is _ABSENT else wanted
        if not key and any(isinstance(v, dict) for v in (live or []) + patch_list + order):
            continue  # maps cannot be ordered without a merge key; the directive is dropped
        _validate_order(patch_list, order, key)
        if live is None and wanted is _ABSENT:
            continue
        if wanted is _ABSENT:
            merged = live
        elif live is None:
            merged = _fresh(field, wanted)
        else:
            merged = _merge_list(field, live, wanted)
        # the live list, or a list patch merged (into nothing or into the live list): a list
        patch_items, server_only = _partition(cast(list, merged), order, key)
        original[field] = _normalize_order(patch_items, server_only, order, live or [], key)
        patch.pop(field, None)


def _validate_order(patch_list: list, order: list, key: str) -> None:
    """Every item of the patch list must appear in ``$setElementOrder``, in the same order."""
    if not patch_list or not order:
        return
    items = [v for v in patch_list if not (key and isinstance(v, dict) and DIRECTIVE in v)]
    p = s = 0
    while p < len(items) and s < len(order):
        if same(_identity(items[p], key), _identity(order[s], key)):
            p += 1
        s += 1
    if p < len(items):
        raise BadRequest(
            f"The order in patch list:\n{_show(patch_list)}\n doesn't match "
            f"{SET_ELEMENT_ORDER} list:\n{_show(order)}\n"
        )


def _no_merge_key(item: object, key: str) -> str:
    return f"map: {_show(item)} does not contain declared merge key: {key}"


def _show(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
