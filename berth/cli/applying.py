"""Client-side apply, as kubectl does it without ``--server-side`` (pure parts).

The manifest is recorded on the object in the ``last-applied-configuration`` annotation (the
same one kubectl writes, so the two tools can take turns). A later apply sends a JSON merge
patch computed three ways: fields the last manifest had and this one drops are removed; fields
this one sets are sent when the live object does not already hold them. Values the server
filled in (defaults, status) are left alone, and an empty patch means ``unchanged``.
"""

from __future__ import annotations

import json

import yaml

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def load_documents(text: str) -> list[dict]:
    """Objects of a multi-document YAML (or JSON) text; ``kind: List`` expands to its items."""
    docs: list[dict] = []
    for doc in yaml.safe_load_all(text):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise ValueError(f"a manifest must be a mapping, not {type(doc).__name__}")
        if doc.get("kind") == "List" or (
            doc.get("kind", "").endswith("List") and isinstance(doc.get("items"), list)
        ):
            docs.extend(item for item in doc["items"] if isinstance(item, dict))
        else:
            docs.append(doc)
    return docs


def with_last_applied(manifest: dict) -> dict:
    """The manifest carrying itself as the last-applied annotation, byte for byte as kubectl
    records it (so ``kubectl apply`` after ``berth apply`` of the same file is ``unchanged``,
    and the other way round): the manifest with that annotation emptied out, as Go's
    ``encoding/json`` writes it, and a newline."""
    recorded = json.loads(json.dumps(manifest))
    meta = recorded.setdefault("metadata", {})
    meta["annotations"] = {
        k: v for k, v in (meta.get("annotations") or {}).items() if k != LAST_APPLIED
    }
    out = json.loads(json.dumps(recorded))
    out["metadata"]["annotations"][LAST_APPLIED] = go_json(recorded) + "\n"
    return out


def go_json(value: object) -> str:
    """Compact JSON with sorted keys and Go's HTML-safe escapes (``<``, ``>``, ``&``, U+2028,
    U+2029); these characters only ever occur inside strings, so replacing them is safe."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escape in _GO_ESCAPES.items():
        text = text.replace(char, escape)
    return text


_GO_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def last_applied(live: dict) -> dict:
    raw = ((live.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    if not raw:
        return {}
    try:
        doc = json.loads(raw)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def contains(live: object, wanted: object) -> bool:
    """``live`` already holds everything ``wanted`` says (extra live keys are defaults)."""
    if isinstance(wanted, dict):
        return isinstance(live, dict) and all(
            k in live and contains(live[k], v) for k, v in wanted.items()
        )
    if isinstance(wanted, list):
        return (
            isinstance(live, list)
            and len(live) == len(wanted)
            and all(contains(a, b) for a, b in zip(live, wanted, strict=True))
        )
    return live == wanted


def three_way_patch(original: dict, modified: dict, live: dict) -> dict:
    """The JSON merge patch that takes ``live`` to what ``modified`` asks for.

    ``original`` is the previous manifest (``{}`` when none was recorded): a key it had that
    ``modified`` lacks is deleted (``null``); a value that changed since ``original``, or that
    ``live`` does not hold, is sent whole (lists replace, as merge patch defines).
    """
    patch: dict = {}
    for key in original:
        if key not in modified and key in live:
            patch[key] = None
    for key, want in modified.items():
        have = live.get(key)
        before = original.get(key)
        if isinstance(want, dict) and isinstance(have, dict):
            sub = three_way_patch(before if isinstance(before, dict) else {}, want, have)
            if sub:
                patch[key] = sub
        elif key not in live or not contains(have, want) or (key in original and before != want):
            patch[key] = want
    return patch
