"""What the indexed columns and key lookups of the objects table can hold.

PostgreSQL refuses a NUL in text and an over-long value in a VARCHAR with an error, not a miss,
so values are checked here before they reach SQL.
"""

from __future__ import annotations


def indexed_columns(resource: str, obj: dict) -> dict:
    """The columns SQL filters on besides the key: a pod's node and the phase of anything. A
    value the column cannot hold is not indexed (the object itself keeps it)."""
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    node = spec.get("nodeName") if resource == "pods" else None
    phase = status.get("phase")
    return {
        "node_name": node if _fits(node, 253) else None,
        "phase": phase if _fits(phase, 64) else None,
    }


def _fits(value: object, size: int) -> bool:
    """Whether an indexed column can hold ``value``: PostgreSQL refuses a NUL in text and
    more than ``size`` characters in a VARCHAR(size), with an error, not a miss."""
    return isinstance(value, str) and len(value) <= size and "\x00" not in value


def findable(*keys: str | None) -> bool:
    """No stored key holds a NUL (names are validated; PostgreSQL text cannot hold one), so a
    lookup by one finds nothing, and on PostgreSQL would fail instead."""
    return not any(key and "\x00" in key for key in keys)
