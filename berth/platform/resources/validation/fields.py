"""Field errors worded exactly as Kubernetes' ``field.Error`` renders them.

Kubernetes prints a bad value with Go's formatting: strings quoted, numbers bare, booleans
``true``/``false``, a missing pointer as ``null``. Structured values (maps, lists) are shown
here as compact JSON, which a reader can map back to their manifest.
"""

from __future__ import annotations

import json
from typing import TypeGuard

from berth.platform.errors import Cause

REQUIRED = "FieldValueRequired"
INVALID = "FieldValueInvalid"
NOT_SUPPORTED = "FieldValueNotSupported"
FORBIDDEN = "FieldValueForbidden"
DUPLICATE = "FieldValueDuplicate"
NOT_FOUND = "FieldValueNotFound"
TOO_LONG = "FieldValueTooLong"
TOO_MANY = "FieldValueTooMany"


def show(value: object) -> str:
    """A bad value as ``field.Error`` prints it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False, default=str)


def _with_detail(head: str, detail: str) -> str:
    return f"{head}: {detail}" if detail else head


def required(path: str, detail: str = "") -> Cause:
    return Cause(path, _with_detail("Required value", detail), REQUIRED)


def invalid(path: str, value: object, detail: str) -> Cause:
    return Cause(path, _with_detail(f"Invalid value: {show(value)}", detail), INVALID)


def invalid_omit(path: str, detail: str) -> Cause:
    """``field.Invalid`` with ``OmitValueType``: the value is not printed."""
    return Cause(path, _with_detail("Invalid value", detail), INVALID)


def unsupported(path: str, value: object, allowed: list[str] | tuple[str, ...]) -> Cause:
    detail = "supported values: " + ", ".join(json.dumps(a) for a in allowed) if allowed else ""
    return Cause(path, _with_detail(f"Unsupported value: {show(value)}", detail), NOT_SUPPORTED)


def forbidden(path: str, detail: str) -> Cause:
    return Cause(path, _with_detail("Forbidden", detail), FORBIDDEN)


def duplicate(path: str, value: object, detail: str = "") -> Cause:
    return Cause(path, _with_detail(f"Duplicate value: {show(value)}", detail), DUPLICATE)


def not_found(path: str, value: object, detail: str = "") -> Cause:
    return Cause(path, _with_detail(f"Not found: {show(value)}", detail), NOT_FOUND)


def too_long(path: str, limit: int) -> Cause:
    return Cause(path, f"Too long: must have at most {limit} bytes", TOO_LONG)


def too_many(path: str, actual: int, limit: int) -> Cause:
    items = "item" if limit == 1 else "items"
    return Cause(path, f"Too many: {actual}: must have at most {limit} {items}", TOO_MANY)


def immutable(path: str, value: object) -> Cause:
    return invalid(path, value, "field is immutable")


def non_negative(path: str, value: object) -> list[Cause]:
    """``ValidateNonnegativeField`` for an optional integer."""
    if value is None:
        return []
    if not is_int(value):
        return [invalid(path, value, "must be an integer")]
    if value < 0:
        return [invalid(path, value, "must be greater than or equal to 0")]
    return []


def is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def as_dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list:
    return value if isinstance(value, list) else []


def key_of(value: object) -> object:
    """Something hashable that stands for ``value`` in a set of seen values."""
    return show(value) if isinstance(value, (dict, list)) else value
