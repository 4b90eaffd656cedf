"""The four PATCH content types of the Kubernetes API, as pure functions over objects.

``apply_patch`` picks by ``Content-Type``: JSON patch (RFC 6902), JSON merge patch
(RFC 7386), strategic merge patch, and server-side apply (``apply.py``), whose callers will
usually call ``server_side_apply`` directly. ``update_managed_fields`` records ownership for
every other write. A patch that changes nothing returns an object equal to the original, so
the caller can keep its ``resourceVersion``.
"""

from __future__ import annotations

import json
from typing import cast

import yaml

from berth.platform.errors import BadRequest, Cause, Invalid, UnsupportedMediaType
from berth.platform.resources.patch.apply import server_side_apply, ssa_merge
from berth.platform.resources.patch.errors import ApplyConflict, PatchRejected
from berth.platform.resources.patch.jsonpatch import apply_json_patch
from berth.platform.resources.patch.managed import update_managed_fields
from berth.platform.resources.patch.merge import create_merge_patch, merge_patch
from berth.platform.resources.patch.strategic import strategic_merge_patch

__all__ = [
    "JSON_PATCH",
    "MERGE_PATCH",
    "STRATEGIC_MERGE_PATCH",
    "APPLY",
    "SUPPORTED",
    "ApplyConflict",
    "PatchRejected",
    "apply_patch",
    "is_apply",
    "media_type",
    "parse_apply_body",
    "server_side_apply",
    "ssa_merge",
    "update_managed_fields",
    "apply_json_patch",
    "merge_patch",
    "create_merge_patch",
    "strategic_merge_patch",
]

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"
# In the order kube-apiserver lists them when it refuses a type.
SUPPORTED = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY)


def media_type(content_type: str | None) -> str:
    """``application/merge-patch+json; charset=utf-8`` -> ``application/merge-patch+json``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_apply(content_type: str | None) -> bool:
    """Server-side apply? Media types are case-insensitive (RFC 9110), so
    ``Application/Apply-Patch+YAML`` is apply too: the API handler and the store client both
    decide it here, the same way."""
    return media_type(content_type) == APPLY


def apply_patch(
    content_type: str | None,
    original: dict | None,
    body: bytes,
    *,
    manager: str = "",
    force: bool | None = None,
    now: str = "",
    subresource: str = "",
) -> dict:
    """The object after the patch. ``original`` may be None only for server-side apply (which
    then creates); ``manager``, ``force`` and ``now`` matter only to server-side apply."""
    kind = media_type(content_type)
    if kind not in SUPPORTED:
        raise UnsupportedMediaType(
            "the body of the request was in an unknown format - "
            "accepted media types include: " + ", ".join(SUPPORTED)
        )
    if force is not None and kind != APPLY:
        raise Invalid(
            "PatchOptions",
            "",
            [
                Cause(
                    "force",
                    "Forbidden: may not be specified for non-apply patch",
                    "FieldValueForbidden",
                )
            ],
            group="meta.k8s.io",
        )
    if kind == APPLY:
        return server_side_apply(
            original, parse_apply_body(body), manager, bool(force), now, subresource=subresource
        )
    if original is None:
        raise ValueError("only server-side apply patches an object that does not exist")
    document = _json(body)
    if kind == JSON_PATCH:
        return apply_json_patch(original, document)
    if not isinstance(document, dict):
        raise BadRequest(
            f"json: cannot unmarshal {_json_type(document)} into Go value of type "
            "map[string]interface {}"
        )
    if kind == MERGE_PATCH:
        return cast(dict, merge_patch(original, document))  # a map merged into a map
    return strategic_merge_patch(original, document)


def _json(body: bytes | str) -> object:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"invalid JSON in the patch body: {exc}") from None


def _json_type(value: object) -> str:
    return {list: "array", str: "string", bool: "bool", type(None): "null"}.get(
        type(value), "number"
    )


class _YamlLoader(yaml.SafeLoader):
    """YAML as sigs.k8s.io/yaml reads it for an API body: timestamps stay strings."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_apply_body(body: bytes | str) -> dict:
    """The configuration of an apply patch: JSON (what kubectl sends) or YAML."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        try:
            document = yaml.load(body, Loader=_YamlLoader)  # noqa: S506 - a SafeLoader
        except yaml.YAMLError as exc:
            raise BadRequest(f"error decoding YAML: {exc}") from None
    if not isinstance(document, dict):
        raise BadRequest("the apply configuration must be an object")
    return document
