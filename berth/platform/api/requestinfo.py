"""Turn a request path into what it addresses, like kube-apiserver's RequestInfoFactory."""

from __future__ import annotations

from dataclasses import dataclass

from berth.platform.errors import NotFound
from berth.platform.resources import registry
from berth.platform.resources.registry import ResourceType

_NAMESPACE_SUBRESOURCES = ("status", "finalize")


@dataclass(frozen=True)
class RequestInfo:
    group: str
    version: str
    resource: ResourceType | None  # None: a discovery document (/api/v1, /apis/batch/v1)
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None


def _not_found() -> NotFound:
    return NotFound("", "", message="the server could not find the requested resource")


def parse(path: str) -> RequestInfo:
    parts = [p for p in path.split("/") if p]
    if len(parts) < 2 or parts[0] not in ("api", "apis"):
        raise _not_found()
    if parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    else:
        if len(parts) < 3:
            raise _not_found()
        group, version, rest = parts[1], parts[2], parts[3:]
    if not rest:
        return RequestInfo(group, version, None)
    namespace = None
    if (
        rest[0] == "namespaces"
        and len(rest) >= 3
        and not (len(rest) == 3 and rest[2] in _NAMESPACE_SUBRESOURCES and group == "")
    ):
        namespace, rest = rest[1], rest[2:]
    plural = rest[0]
    rt = registry.by_path(group, version, plural)
    if rt is None or len(rest) > 3:
        raise _not_found()
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    if rt.key == registry.NAMESPACE.key and name is not None:
        namespace = None
    if namespace is not None and not rt.namespaced:
        raise _not_found()
    if (
        sub is not None
        and sub not in rt.subresources
        and not (rt.key == registry.NAMESPACE.key and sub == "finalize")
    ):
        raise _not_found()
    return RequestInfo(group, version, rt, namespace, name, sub)
