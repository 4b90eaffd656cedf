"""Request checks and object shaping shared by the object client's verbs."""

from __future__ import annotations

from collections.abc import Callable

from berth.platform.errors import BadRequest, Cause, Conflict
from berth.platform.resources.registry import ResourceType


def scoped_namespace(rt: ResourceType, namespace: str | None) -> str:
    return (namespace or "") if rt.namespaced else ""


def required_name() -> Cause:
    return Cause(
        "metadata.name", "Required value: name or generateName is required", "FieldValueRequired"
    )


def with_type(rt: ResourceType, obj: dict) -> dict:
    obj["apiVersion"] = rt.api_version
    obj["kind"] = rt.kind
    return obj


def check_type(rt: ResourceType, obj: dict) -> None:
    if not isinstance(obj, dict):
        raise BadRequest(
            f'{rt.kind} in version "{rt.version}" cannot be handled as a '
            f"{rt.kind}: the body must be a JSON object"
        )
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if api_version and api_version != rt.api_version:
        raise BadRequest(
            f"the API version in the data ({api_version}) does not match the "
            f"expected API version ({rt.api_version})"
        )
    if kind and kind != rt.kind:
        raise BadRequest(
            f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})"
        )
    obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind


def patched_object(rt: ResourceType, merged: object, decode: Callable[[dict], dict] | None) -> dict:
    # A JSON patch may replace the whole document or its metadata with anything.
    if not isinstance(merged, dict) or not isinstance(merged.get("metadata", {}), dict):
        raise BadRequest(
            f'{rt.kind} in version "{rt.version}" cannot be handled as a '
            f"{rt.kind}: the patched object and its metadata must be JSON objects"
        )
    return decode(merged) if decode is not None else merged


def check_preconditions(rt: ResourceType, obj: dict, pre: dict | None) -> None:
    if not pre:
        return
    md = obj["metadata"]
    if pre.get("uid") and pre["uid"] != md.get("uid"):
        raise Conflict(
            rt.plural,
            md["name"],
            rt.group,
            f"Precondition failed: UID in precondition: {pre['uid']}, UID in object "
            f"meta: {md.get('uid')}",
        )
    if pre.get("resourceVersion") and pre["resourceVersion"] != md.get("resourceVersion"):
        raise Conflict(
            rt.plural,
            md["name"],
            rt.group,
            f"Precondition failed: ResourceVersion in precondition: "
            f"{pre['resourceVersion']}, ResourceVersion in object meta: "
            f"{md.get('resourceVersion')}",
        )
