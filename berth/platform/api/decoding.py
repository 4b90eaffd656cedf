"""Request bodies to objects: JSON, YAML or Kubernetes protobuf, then field validation.

``fieldValidation`` (Strict | Warn | Ignore) decides what unknown fields do: Strict answers 400
with Kubernetes' strict-decoding message, Warn answers with a ``Warning`` header, Ignore says
nothing. Unknown fields are never stored (built-in kinds drop them in Kubernetes too). A value
of the wrong type is always a 400.
"""

from __future__ import annotations

import re

import orjson
import yaml

from berth.platform.api import protobuf
from berth.platform.errors import BadRequest, UnsupportedMediaType
from berth.platform.resources import schema
from berth.platform.resources.registry import ResourceType

JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
_VALIDATION = ("Strict", "Warn", "Ignore")


def media_type(content_type: str | None) -> str:
    return (content_type or JSON).split(";")[0].strip().lower() or JSON


def parse_document(body: bytes, content_type: str | None) -> object:
    kind = media_type(content_type)
    try:
        if kind in (JSON, "*/*", "text/plain"):
            return orjson.loads(body)
        if kind in (YAML, "application/x-yaml", "text/yaml"):
            return yaml.safe_load(body)
        if kind == PROTOBUF:
            return protobuf.decode(body)
    except (orjson.JSONDecodeError, yaml.YAMLError, UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"the request body could not be decoded: {_short(exc)}") from None
    raise UnsupportedMediaType(f'the body of the request was in an unknown format - accepted '
                               f'media types include: {JSON}, {YAML}, {PROTOBUF}')


def decode_object(rt: ResourceType, body: bytes, content_type: str | None,
                  field_validation: str | None) -> tuple[dict, list[str]]:
    """The object in the body and the warnings to send back."""
    doc = parse_document(body, content_type)
    if not isinstance(doc, dict):
        raise BadRequest(f'{rt.kind} in version "{rt.version}" cannot be handled as a '
                         f'{rt.kind}: the body must be a JSON object')
    return validate_fields(rt, doc, field_validation)


def validate_fields(rt: ResourceType, doc: dict, field_validation: str | None
                    ) -> tuple[dict, list[str]]:
    mode = field_validation or "Warn"
    if mode not in _VALIDATION:
        raise BadRequest(f'fieldValidation parameter unsupported: {mode}; supported values: '
                         f'"Ignore", "Strict", "Warn"')
    type_errors = schema.type_errors(rt.kind, doc)
    if type_errors:
        raise BadRequest(f'{rt.kind} in version "{rt.version}" cannot be handled as a '
                         f'{rt.kind}: {type_errors[0]}')
    unknown = schema.unknown_fields(rt.kind, doc)
    warnings: list[str] = []
    if unknown:
        if mode == "Strict":
            raise BadRequest(schema.decode_error(rt.kind, rt.version, unknown))
        if mode == "Warn":
            warnings = [f'unknown field "{path}"' for path in unknown]
        for path in unknown:
            prune(doc, path)
    return doc, warnings


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def prune(doc: dict, path: str) -> None:
    """Remove the field at ``spec.template.spec.containers[0].foo`` from ``doc``."""
    steps: list[str | int] = [int(i) if i else k for k, i in _STEP.findall(path)]
    node: object = doc
    for step in steps[:-1]:
        try:
            node = node[step]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            return
    last = steps[-1] if steps else None
    if isinstance(node, dict) and isinstance(last, str):
        node.pop(last, None)


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
