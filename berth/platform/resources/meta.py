"""Object metadata helpers shared by every layer: time, uids, safe accessors."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

if TYPE_CHECKING:
    from berth.platform.resources.types import OwnerReference


def utcnow() -> datetime:
    return datetime.now(UTC)


def rfc3339(moment: datetime) -> str:
    """``2026-11-25T19:17:52Z``: what Kubernetes writes for every timestamp."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


_T = TypeVar("_T")
# Anything but JSON's own types (a datetime, a dataclass, a str or dict subclass such as an
# enum) is refused, so that ``clone`` hands it to ``copy.deepcopy`` unchanged.
_CLONE_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def clone(obj: _T) -> _T:
    """A deep copy of a JSON-shaped object (an API object, as the store holds it): written and
    read back by orjson, about six times faster than ``copy.deepcopy`` on a Job or a Pod, which
    the controllers copy on every sync and the client on every write. A tuple comes back as a
    list and an enum member as its value, as the store would return them; what orjson would
    turn into another type (a datetime, a dataclass, a subclass of str, int, dict or list) or
    cannot write (a set, a non-string key, an integer beyond 64 bits) is copied by
    ``copy.deepcopy`` instead."""
    try:
        return orjson.loads(orjson.dumps(obj, option=_CLONE_OPTIONS))
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return copy.deepcopy(obj)


def new_uid() -> str:
    return str(uuid.uuid4())


def meta(obj: dict) -> dict:
    return obj.setdefault("metadata", {})


def name_of(obj: Mapping[str, Any]) -> str:
    return (obj.get("metadata") or {}).get("name") or ""


def namespace_of(obj: Mapping[str, Any]) -> str:
    return (obj.get("metadata") or {}).get("namespace") or ""


def labels_of(obj: Mapping[str, Any]) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def dig(obj: Mapping[str, Any], *path: str, default: Any = None) -> Any:
    """``dig(pod, "spec", "nodeName")``: a nested value or ``default``; never raises."""
    cur = obj
    for key in path:
        if not isinstance(cur, dict):
            return default
        cur = cur.get(key)
        if cur is None:
            return default
    return cur


def changed(old: Any, new: Any) -> Any:
    """The object an informer handler's (old, new) call is about: ``new``, or ``old`` when it
    was deleted (a handler is never called with neither)."""
    obj = new if new is not None else old
    if obj is None:
        raise ValueError("an informer handler was called with neither an old nor a new object")
    return obj


def controller_of(obj: Mapping[str, Any]) -> OwnerReference | None:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None
