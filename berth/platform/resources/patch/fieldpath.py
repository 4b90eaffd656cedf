"""Field paths and field sets, as structured-merge-diff names them in ``managedFields``.

A path is a tuple of path elements spelled the way ``fieldsV1`` spells them: ``f:<field>`` for
an object field, ``k:<json key>`` for an item of a list-map (``k:{"name":"c"}``), ``v:<json>``
for a value of a set (``v:"x"``). A field set holds the paths someone owns: the leaves (scalars,
atomic lists, empty objects, nulls) and each list-map or set item itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from berth.platform.resources.patch import schema

Path = tuple[str, ...]

# What an object's fields look like to ownership: path -> (value, is a member of the set).
Flat = dict[Path, tuple[object, bool]]


def walk(obj: object) -> Flat:
    """Every node of ``obj`` by path; members are the paths a field set would hold."""
    flat: Flat = {}
    _walk(obj, (), "", flat)
    flat.pop((), None)
    return flat


def _walk(value: object, path: Path, field: str, flat: Flat) -> None:
    if isinstance(value, dict):
        flat[path] = (value, not value)
        for key, child in value.items():
            _walk(child, path + ("f:" + key,), key, flat)
    elif isinstance(value, list):
        kind = schema.list_kind(field, value)
        flat[path] = (value, kind == schema.ATOMIC)
        if kind == schema.MAP:
            for item in value:
                item_path = path + ("k:" + schema.encode(schema.item_key(field, item)),)
                _walk(item, item_path, "", flat)
                flat[item_path] = (item, True)  # the item itself is owned, not only its fields
        elif kind == schema.SET:
            for item in value:
                flat[path + ("v:" + schema.encode(item),)] = (item, True)
    else:
        flat[path] = (value, True)


def members(flat: Flat) -> set[Path]:
    return {path for path, (_, member) in flat.items() if member}


def field_set(obj: object) -> set[Path]:
    return members(walk(obj))


def compare(old: object, new: object) -> tuple[set[Path], set[Path], set[Path]]:
    """``(added, modified, removed)`` between two objects: added paths are members of ``new``
    absent from ``old``; removed ones are members of ``old`` absent from ``new``; modified ones
    exist in both with a different value (leaves only: a changed item shows as changed
    fields inside it)."""
    before, after = walk(old), walk(new)
    added = {p for p, (_, m) in after.items() if m and p not in before}
    removed = {p for p, (_, m) in before.items() if m and p not in after}
    modified = set()
    for path in members(before) | members(after):
        if path in before and path in after and not path[-1].startswith(("k:", "v:")):
            if not same(before[path][0], after[path][0]):
                modified.add(path)
    return added, modified, removed


def same(a: object, b: object) -> bool:
    """JSON equality that tells ``true`` from ``1`` (Python's ``==`` does not)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(b, (dict, list)):
        return False
    return a == b


# -- fieldsV1 --------------------------------------------------------------------------------

_RANK = {"f": 0, "k": 1, "v": 2, "i": 3}


def to_fields_v1(paths: Iterable[Path]) -> dict:
    """Encode a set: a member with children carries ``".": {}``, a member leaf is ``{}``."""
    tree: dict = {}
    marked: set[int] = set()
    for path in paths:
        node = tree
        for element in path:
            node = node.setdefault(element, {})
        marked.add(id(node))
    return _finish(tree, marked)


def _finish(node: dict, marked: set[int]) -> dict:
    out: dict = {}
    if node and id(node) in marked:
        out["."] = {}
    for element in sorted(node, key=lambda e: (_RANK.get(e[:1], 9), e)):
        out[element] = _finish(node[element], marked)
    return out


def from_fields_v1(tree: object, prefix: Path = ()) -> set[Path]:
    """Decode ``fieldsV1``; anything that is not an object of objects is ignored."""
    out: set[Path] = set()
    if not isinstance(tree, dict):
        return out
    for element, child in tree.items():
        if element == ".":
            if prefix:
                out.add(prefix)
        elif isinstance(child, dict):
            if child:
                out |= from_fields_v1(child, prefix + (element,))
            else:
                out.add(prefix + (element,))
    return out


def path_string(path: Path) -> str:
    """``.spec.template.spec.containers[name="c"].image``, as conflicts name a field."""
    parts = []
    for element in path:
        kind, text = element[:2], element[2:]
        if kind == "f:":
            parts.append("." + text)
        elif kind == "k:":
            key = json.loads(text)
            parts.append("[" + ",".join(f"{k}={_show(v)}" for k, v in sorted(key.items())) + "]")
        elif kind == "v:":
            parts.append(f"[={_show(json.loads(text))}]")
        else:
            parts.append(f"[{text}]")
    return "".join(parts)


def _show(value: object) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else schema.encode(value)


# -- editing objects by path -----------------------------------------------------------------


def remove(obj: dict, path: Path) -> bool:
    """Delete the node at ``path`` from ``obj`` in place; False when it is not there."""
    parent, field = _container(obj, path[:-1])
    element = path[-1]
    if element.startswith("f:"):
        if isinstance(parent, dict) and element[2:] in parent:
            del parent[element[2:]]
            return True
        return False
    if isinstance(parent, list):
        index = _find(parent, field, element)
        if index is not None:
            del parent[index]
            return True
    return False


def find(obj: object, path: Path) -> object:
    """The node at ``path``, or MISSING."""
    return _container(obj, path)[0]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


def _container(obj: object, path: Path) -> tuple[object, str]:
    """The node at ``path`` and the name of the field that holds it."""
    node, field = obj, ""
    for element in path:
        if element.startswith("f:"):
            if not isinstance(node, dict) or element[2:] not in node:
                return MISSING, ""
            node, field = node[element[2:]], element[2:]
        elif isinstance(node, list):
            index = _find(node, field, element)
            if index is None:
                return MISSING, ""
            node, field = node[index], ""
        else:
            return MISSING, ""
    return node, field


def _find(items: list, field: str, element: str) -> int | None:
    if element.startswith("k:"):
        if field not in schema.LIST_MAP_KEYS:
            return None
        wanted = element[2:]
        for i, item in enumerate(items):
            key = schema.item_key(field, item)
            if key is not None and schema.encode(key) == wanted:
                return i
    elif element.startswith("v:"):
        for i, item in enumerate(items):
            if schema.is_scalar(item) and schema.encode(item) == element[2:]:
                return i
    elif element.startswith("i:") and element[2:].isdigit() and int(element[2:]) < len(items):
        return int(element[2:])
    return None
