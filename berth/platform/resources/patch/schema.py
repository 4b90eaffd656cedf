"""How lists merge, as data keyed by the list field's name.

Kubernetes reads this from struct tags (``patchStrategy:"merge" patchMergeKey:"name"``) and,
for server-side apply, from ``x-kubernetes-list-type`` / ``x-kubernetes-list-map-keys``. Berth
serves a handful of kinds in which a field name means the same list everywhere, so a table by
name is enough. A list not named here is atomic: a patch or an apply replaces it whole
(``tolerations``, ``command``, ``args``, ``accessModes``, ...).
"""

from __future__ import annotations

import json

# Strategic merge patch: list field -> patchMergeKey (lists of objects merged item by item).
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "ports": "containerPort",
    "imagePullSecrets": "name",
    "ownerReferences": "uid",
    "conditions": "type",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
    "resourceClaimStatuses": "name",
    "schedulingGates": "name",
    "addresses": "type",  # Node status
    "podIPs": "ip",
    "hostIPs": "ip",
}

# Strategic merge patch: lists of scalars with patchStrategy "merge" (a union, no key).
MERGED_SCALAR_LISTS: frozenset[str] = frozenset({"finalizers", "podCIDRs"})

# Server-side apply: list-map keys, where they differ from MERGE_KEYS, with the default a
# missing key field takes (a port without a protocol is a TCP port).
_MAP_KEYS_OVERRIDES: dict[str, tuple[tuple[str, object], ...]] = {
    "ports": (("containerPort", None), ("protocol", "TCP")),
    "topologySpreadConstraints": (("topologyKey", None), ("whenUnsatisfiable", None)),
}
LIST_MAP_KEYS: dict[str, tuple[tuple[str, object], ...]] = {
    **{field: ((key, None),) for field, key in MERGE_KEYS.items()},
    **_MAP_KEYS_OVERRIDES,
}

# Server-side apply: ``x-kubernetes-list-type: set`` (each value owned on its own).
SET_LISTS: frozenset[str] = MERGED_SCALAR_LISTS

ATOMIC, MAP, SET = "atomic", "map", "set"


def is_scalar(value: object) -> bool:
    return not isinstance(value, (dict, list))


def item_key(field: str, item: object) -> dict | None:
    """The key of one item of a list-map (``{"name": "c"}``), or None when the item lacks a
    key field that has no default."""
    if not isinstance(item, dict):
        return None
    key = {}
    for name, default in LIST_MAP_KEYS[field]:
        value = item.get(name, default)
        if value is None:
            if default is None and name != LIST_MAP_KEYS[field][0][0]:
                continue  # an optional secondary key may be absent
            return None
        key[name] = value
    return key


def list_kind(field: str, items: list) -> str:
    """How server-side apply treats ``items`` under ``field``. A list that breaks its
    declared shape (an item without its key, a duplicate key) falls back to atomic."""
    if field in SET_LISTS and all(is_scalar(v) for v in items):
        return SET if len({encode(v) for v in items}) == len(items) else ATOMIC
    if field in LIST_MAP_KEYS:
        keys = [item_key(field, v) for v in items]
        if all(k is not None for k in keys):
            if len({encode(k) for k in keys}) == len(keys):
                return MAP
    return ATOMIC


def encode(value: object) -> str:
    """Compact JSON with sorted keys: how keys and set values appear in ``fieldsV1``."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
