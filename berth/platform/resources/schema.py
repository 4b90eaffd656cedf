"""Strict decoding of objects against the Kubernetes schema in ``schema.json``.

What the API server's JSON decoder reports, in its words: unknown fields as paths
(``spec.template.spec.containers[0].imagePullPolicyy``) for ``fieldValidation``, and values of
the wrong type as Go's ``json: cannot unmarshal string into Go struct field
JobSpec.spec.completions of type int32``. The schema is parsed once into per-model field maps
so a check is one walk over the object.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from berth.platform.resources import quantity

_SCHEMA_FILE = Path(__file__).with_name("schema.json")

# schema.json spells every integer "integer"; these are the int64 ones in k8s.io/api.
INT64_FIELDS = frozenset(
    {
        ("V1ObjectMeta", "generation"),
        ("V1ObjectMeta", "deletionGracePeriodSeconds"),
        ("V1JobSpec", "activeDeadlineSeconds"),
        ("V1CronJobSpec", "startingDeadlineSeconds"),
        ("V1PodSpec", "activeDeadlineSeconds"),
        ("V1PodSpec", "terminationGracePeriodSeconds"),
        ("V1Probe", "terminationGracePeriodSeconds"),
        ("V1PodSecurityContext", "runAsUser"),
        ("V1PodSecurityContext", "runAsGroup"),
        ("V1PodSecurityContext", "fsGroup"),
        ("V1PodSecurityContext", "supplementalGroups"),
        ("V1SecurityContext", "runAsUser"),
        ("V1SecurityContext", "runAsGroup"),
        ("V1Toleration", "tolerationSeconds"),
        ("V1ServiceAccountTokenProjection", "expirationSeconds"),
        ("V1DeleteOptions", "gracePeriodSeconds"),
        ("V1ContainerImage", "sizeBytes"),
        ("V1LinuxContainerUser", "uid"),
        ("V1LinuxContainerUser", "gid"),
        ("V1LinuxContainerUser", "supplementalGroups"),
        ("V1PodCondition", "observedGeneration"),
        ("V1PodStatus", "observedGeneration"),
        ("V1NodeSwapStatus", "capacity"),
        ("V1SleepAction", "seconds"),
    }
)
# The only ``any`` fields that are intstr.IntOrString; the others are free-form objects.
INT_OR_STRING_FIELDS = frozenset({("V1HTTPGetAction", "port"), ("V1TCPSocketAction", "port")})

_INT_RANGE = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_BASE64_CHARS = re.compile(r"[^A-Za-z0-9+/=]")
# Values with their own decoders report their own messages, not Go's "cannot unmarshal".
_STANDALONE = ("quantities ", "parsing time ", "illegal base64 ")
_MODEL_PREFIX = re.compile(r"^(?:Core)?(V\d+(?:alpha\d+|beta\d+)?)")


@dataclass(frozen=True)
class FieldType:
    """One field's type: a scalar (``string``, ``int32``, ``quantity`` ...), ``list``, ``map``
    (string keys) or ``model``; ``item`` is the element type of a list or map."""

    kind: str
    name: str = ""
    item: FieldType | None = None


def go_name(model: str) -> str:
    """``V1JobSpec`` -> ``JobSpec``; ``CoreV1Event`` -> ``Event``."""
    return _MODEL_PREFIX.sub("", model)


def go_package(model: str) -> str:
    """The Go package name a model lives in: ``v1``, ``v1alpha3``."""
    match = _MODEL_PREFIX.match(model)
    return match.group(1).lower() if match else "v1"


@cache
def roots() -> dict[str, str]:
    """Kind -> root model name (``Job`` -> ``V1Job``)."""
    return dict(_raw()["roots"])


@cache
def models() -> dict[str, dict[str, FieldType]]:
    """Every model's fields, parsed once."""
    out: dict[str, dict[str, FieldType]] = {}
    for model, fields in _raw()["models"].items():
        out[model] = {name: _parse(spelling, model, name) for name, spelling in fields.items()}
    return out


def unknown_fields(kind: str, obj: dict) -> list[str]:
    """Paths of fields the kind's schema does not have, in document order."""
    root = roots().get(kind)
    if root is None or not isinstance(obj, dict):
        return []
    found: list[str] = []
    _walk_unknown(models()[root], obj, "", found)
    return found


def type_errors(kind: str, obj: dict) -> list[str]:
    """Messages for values of the wrong type, worded as the API server's decoder words them."""
    root = roots().get(kind)
    if root is None or not isinstance(obj, dict):
        return []
    found: list[str] = []
    _check_model(root, obj, "", found)
    return found


def decode_error(kind: str, api_version: str, errors: list[str]) -> str:
    """The 400 message for unknown fields (paths from :func:`unknown_fields`) or, when given
    messages from :func:`type_errors`, for the first wrong type."""
    version = api_version.rsplit("/", 1)[-1]
    prefix = f'{kind} in version "{version}" cannot be handled as a {kind}: '
    paths = [e for e in errors if not _is_message(e)]
    if len(paths) < len(errors):
        return prefix + next(e for e in errors if _is_message(e))
    return prefix + "strict decoding error: " + ", ".join(f'unknown field "{p}"' for p in paths)


def _is_message(error: str) -> bool:
    return error.startswith(_STANDALONE) or error.startswith("json: ")


@cache
def _raw() -> dict:
    return json.loads(_SCHEMA_FILE.read_text())


def _parse(spelling: str, model: str, field: str) -> FieldType:
    if spelling.startswith("[") and spelling.endswith("]"):
        return FieldType("list", item=_parse(spelling[1:-1], model, field))
    if spelling.startswith("{") and spelling.endswith("}"):
        return FieldType("map", item=_parse(spelling[1:-1], model, field))
    if spelling == "integer":
        return FieldType("int64" if (model, field) in INT64_FIELDS else "int32")
    if spelling == "any" and (model, field) in INT_OR_STRING_FIELDS:
        return FieldType("int-or-string")
    if spelling in ("string", "boolean", "number", "date-time", "date", "byte", "quantity", "any"):
        return FieldType(spelling)
    return FieldType("model", spelling)


def _walk_unknown(fields: dict[str, FieldType], obj: dict, path: str, found: list[str]) -> None:
    for key, value in obj.items():
        here = f"{path}.{key}" if path else key
        ftype = fields.get(key)
        if ftype is None:
            found.append(here)
        elif value is not None:
            _walk_value_unknown(ftype, value, here, found)


def _walk_value_unknown(ftype: FieldType, value: object, path: str, found: list[str]) -> None:
    if ftype.kind == "model" and isinstance(value, dict):
        _walk_unknown(models()[ftype.name], value, path, found)
    elif ftype.kind == "list" and isinstance(value, list) and ftype.item is not None:
        for index, item in enumerate(value):
            if item is not None:
                _walk_value_unknown(ftype.item, item, f"{path}[{index}]", found)
    elif ftype.kind == "map" and isinstance(value, dict) and ftype.item is not None:
        for key, item in value.items():
            if item is not None:
                _walk_value_unknown(ftype.item, item, f"{path}[{key}]", found)


def _check_model(model: str, obj: dict, path: str, found: list[str]) -> None:
    fields = models()[model]
    for key, value in obj.items():
        ftype = fields.get(key)
        if ftype is not None and value is not None:
            _check_value(ftype, value, model, f"{path}.{key}" if path else key, found)


def _check_value(ftype: FieldType, value: object, model: str, path: str, found: list[str]) -> None:
    """Go reports the innermost struct holding the field and the dotted path without indices."""
    problem = _scalar_problem(ftype, value)
    if problem is not None:
        if not problem.startswith(_STANDALONE):
            problem = (
                f"json: cannot unmarshal {problem} into Go struct field "
                f"{go_name(model)}.{path} of type {_go_type(ftype)}"
            )
        found.append(problem)
        return
    if ftype.kind == "model":
        _check_model(ftype.name, value, path, found)  # type: ignore[arg-type]
    elif ftype.kind in ("list", "map") and ftype.item is not None:
        items = value if isinstance(value, list) else value.values()  # type: ignore[union-attr]
        for item in items:
            if item is not None:
                _check_value(ftype.item, item, model, path, found)


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _scalar_problem(ftype: FieldType, value: object) -> str | None:
    """None when ``value`` fits; else Go's description of the value, or a whole message for
    values with their own decoders (quantities, times, base64)."""
    kind, seen = ftype.kind, _json_kind(value)
    if kind == "any":
        return None
    if kind == "int-or-string":
        if seen == "number" and isinstance(value, float) and not value.is_integer():
            return f"number {value}"
        return None if seen in ("string", "number") else seen
    if kind in ("int32", "int64"):
        if seen != "number":
            return seen
        if isinstance(value, float) and not value.is_integer():
            return f"number {value}"
        low, high = _INT_RANGE[kind]
        return None if low <= value <= high else f"number {value}"  # type: ignore[operator]
    if kind == "number":
        return None if seen == "number" else seen
    if kind == "boolean":
        return None if seen == "bool" else seen
    if kind == "string":
        return None if seen == "string" else seen
    if kind == "quantity":
        try:
            # resource.Quantity parses whatever JSON it is given as text, so a bool or an
            # object fails the same regular expression as a malformed string.
            quantity.parse(value if seen in ("string", "number") else "-")  # type: ignore[arg-type]
        except quantity.QuantityError as exc:
            return str(exc)
        return None
    if kind in ("date-time", "date"):
        if seen != "string":
            return seen
        if kind == "date-time" and not _RFC3339.match(value):  # type: ignore[arg-type]
            return (
                f'parsing time "{value}" as "2006-01-02T15:04:05Z07:00": cannot parse '
                f'"{value}" as "2006"'
            )
        return None
    if kind == "byte":
        return seen if seen != "string" else _base64_problem(value)  # type: ignore[arg-type]
    if kind == "model":
        return None if seen == "object" else seen
    if kind == "list":
        return None if seen == "array" else seen
    if kind == "map":
        return None if seen == "object" else seen
    return None


def _base64_problem(text: str) -> str | None:
    text = text.replace("\r", "").replace("\n", "")
    try:
        base64.b64decode(text, validate=True)
        return None
    except (binascii.Error, ValueError):
        bad = _BASE64_CHARS.search(text)
        at = bad.start() if bad else (len(text) // 4) * 4
        return f"illegal base64 data at input byte {at}"


def _go_type(ftype: FieldType) -> str:
    if ftype.kind == "list":
        return "[]" + _go_type(ftype.item)  # type: ignore[arg-type]
    if ftype.kind == "map":
        return "map[string]" + _go_type(ftype.item)  # type: ignore[arg-type]
    if ftype.kind == "model":
        return f"{go_package(ftype.name)}.{go_name(ftype.name)}"
    return {
        "string": "string",
        "boolean": "bool",
        "number": "float64",
        "byte": "[]uint8",
        "date-time": "v1.Time",
        "date": "string",
        "quantity": "resource.Quantity",
        "int-or-string": "intstr.IntOrString",
        "any": "interface {}",
    }.get(ftype.kind, ftype.kind)
