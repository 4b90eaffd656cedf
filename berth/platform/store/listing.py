"""Lists: which selector terms the database answers, and continue tokens."""

from __future__ import annotations

import base64

import orjson

from berth.platform.errors import BadRequest, Gone


def pushdown(flds) -> dict:
    """Equality field requirements the database can answer with an index."""
    column = {
        "metadata.name": "name",
        "metadata.namespace": "namespace",
        "spec.nodeName": "node_name",
        "status.phase": "phase",
    }
    out: dict = {}
    for field, op, value in flds.requirements:
        if op in ("=", "==") and field in column and column[field] not in out:
            out[column[field]] = value
    return out


def encode_continue(rv: int, key: tuple[str, str]) -> str:
    raw = orjson.dumps({"rv": rv, "start": list(key)})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, tuple[str, str]]:
    """The resourceVersion the first page was read at, and the key to continue after."""
    try:
        padded = token + "=" * (-len(token) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded))
        ns, name = data["start"]
        return int(data["rv"]), (str(ns), str(name))
    except Exception:
        raise BadRequest("continue key is not valid: illegal base64 data or format") from None


def check_continue_fresh(token_rv: int, compacted_rv: int) -> None:
    """Kubernetes answers 410 to a continue token from before the last compaction: the list
    it continued can no longer be shown consistently."""
    if token_rv < compacted_rv:
        raise Gone(
            "The provided continue parameter is too old to display a consistent list "
            "result. You can start a new list without the continue parameter."
        )
