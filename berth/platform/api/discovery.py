"""Discovery documents: what kubectl asks before it can name a resource.

``/version``, ``/api``, ``/apis``, ``/api/v1``, ``/apis/<group>/<version>`` and the aggregated
(``apidiscovery.k8s.io/v2``) forms of ``/api`` and ``/apis``, all built from the resource
registry so a kind added there is discoverable without touching this module. Shapes follow the
documents in ``shared/reference/kubectl-samples/`` that satisfied kubectl v1.32.
"""

from __future__ import annotations

from berth.platform.resources import registry
from berth.platform.resources.registry import ResourceType
from berth.platform.version import KUBERNETES_MAJOR, KUBERNETES_MINOR, KUBERNETES_VERSION

# kubectl discards an aggregated body served under any other Content-Type (it then reports
# `the server doesn't have a resource type "jobs"`), so the router must use this exact string.
AGGREGATED_MEDIA_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

_SUBRESOURCE_VERBS = {
    "status": ("get", "patch", "update"),
    "log": ("get",),
    "binding": ("create",),
}
# A subresource answers with its parent's kind unless it is listed here.
_SUBRESOURCE_KIND = {"binding": ("", "v1", "Binding")}


def version_info() -> dict:
    """``GET /version``."""
    return {
        "major": KUBERNETES_MAJOR,
        "minor": KUBERNETES_MINOR,
        "gitVersion": KUBERNETES_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.23.6",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def api_versions(server_address: str | None = None) -> dict:
    """``GET /api``: the core group's versions; ``server_address`` is ``host:port`` if known."""
    doc: dict = {"kind": "APIVersions", "versions": ["v1"]}
    if server_address:
        doc["serverAddressByClientCIDRs"] = [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ]
    return doc


def api_group_list() -> dict:
    """``GET /apis``: every named group (the core group lives under ``/api``)."""
    groups = []
    for group, version in _named_group_versions():
        gv = {"groupVersion": f"{group}/{version}", "version": version}
        groups.append({"name": group, "versions": [gv], "preferredVersion": gv})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_resource_list(group_version: str) -> dict | None:
    """``GET /api/v1`` (``"v1"``) or ``GET /apis/batch/v1`` (``"batch/v1"``); None if unknown."""
    types = registry.group_versions().get(group_version)
    if types is None:
        return None
    resources = []
    for rt in types:
        resources.append(_resource_entry(rt))
        resources.extend(_subresource_entry(rt, sub) for sub in rt.subresources)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }


def aggregated_core() -> dict:
    """``GET /api`` when the client accepts :data:`AGGREGATED_MEDIA_TYPE`."""
    return _discovery_list([_group_discovery("", "v1")])


def aggregated_groups() -> dict:
    """``GET /apis`` when the client accepts :data:`AGGREGATED_MEDIA_TYPE`."""
    return _discovery_list([_group_discovery(g, v) for g, v in _named_group_versions()])


def wants_aggregated(accept: str | None) -> bool:
    """True when an ``Accept`` header lists the v2 aggregated discovery type.

    kubectl lists it first, then v2beta1, then plain JSON; we only speak v2, so any other
    header gets the plain documents.
    """
    for media_range in (accept or "").split(","):
        parts = [p.strip() for p in media_range.split(";")]
        params = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        if (
            parts[0] == "application/json"
            and params.get("g") == "apidiscovery.k8s.io"
            and params.get("v") == "v2"
            and params.get("as") == "APIGroupDiscoveryList"
        ):
            return True
    return False


def _named_group_versions() -> list[tuple[str, str]]:
    seen: dict[tuple[str, str], None] = {}
    for rt in registry.ALL:
        if rt.group:
            seen[(rt.group, rt.version)] = None
    return list(seen)


def _resource_entry(rt: ResourceType) -> dict:
    entry = {
        "name": rt.plural,
        "singularName": rt.singular,
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": list(rt.verbs),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    return entry


def _subresource_entry(rt: ResourceType, sub: str) -> dict:
    group, version, kind = _SUBRESOURCE_KIND.get(sub, (rt.group, rt.version, rt.kind))
    entry = {
        "name": f"{rt.plural}/{sub}",
        "singularName": "",
        "namespaced": rt.namespaced,
        "kind": kind,
        "verbs": list(_SUBRESOURCE_VERBS.get(sub, ("get",))),
    }
    if group != rt.group:
        entry["group"], entry["version"] = group, version
    return entry


def _group_discovery(group: str, version: str) -> dict:
    api_version = f"{group}/{version}" if group else version
    resources = [_aggregated_resource(rt) for rt in registry.group_versions()[api_version]]
    return {
        "metadata": {"name": group, "creationTimestamp": None},
        "versions": [{"version": version, "resources": resources, "freshness": "Current"}],
    }


def _aggregated_resource(rt: ResourceType) -> dict:
    entry: dict = {
        "resource": rt.plural,
        "responseKind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
        "scope": "Namespaced" if rt.namespaced else "Cluster",
        "singularResource": rt.singular,
        "verbs": list(rt.verbs),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    if rt.subresources:
        entry["subresources"] = [_aggregated_subresource(rt, sub) for sub in rt.subresources]
    return entry


def _aggregated_subresource(rt: ResourceType, sub: str) -> dict:
    group, version, kind = _SUBRESOURCE_KIND.get(sub, (rt.group, rt.version, rt.kind))
    return {
        "subresource": sub,
        "responseKind": {"group": group, "version": version, "kind": kind},
        "verbs": list(_SUBRESOURCE_VERBS.get(sub, ("get",))),
    }


def _discovery_list(items: list[dict]) -> dict:
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    }
