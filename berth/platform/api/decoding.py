"""Request bodies to objects: JSON, YAML or Kubernetes protobuf, then field validation.

``fieldValidation`` (Strict | Warn | Ignore) decides what unknown fields do: Strict answers 400
with Kubernetes' strict-decoding message, Warn answers with a ``Warning`` header, Ignore says
nothing. Unknown fields are never stored (built-in kinds drop them in Kubernetes too). A value
of the wrong type is always a 400.

Every document comes out as plain JSON data, whatever the body said: YAML is read the way
sigs.k8s.io/yaml reads it (timestamps stay strings, keys become strings) and refused when
aliases would blow it up (a "billion laughs" body is a few hundred bytes), when it is nested
deeper than any Kubernetes object, or when it holds what JSON cannot (binary, sets, NaN).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import orjson
import yaml

from berth.platform.api import protobuf
from berth.platform.errors import BadRequest, UnsupportedMediaType
from berth.platform.resources import patch, schema
from berth.platform.resources.registry import ResourceType

JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
_VALIDATION = ("Strict", "Warn", "Ignore")

# The deepest built-in object (a CronJob's pod affinity terms, or its managedFields) nests about
# 20 levels; the walks that follow decoding recurse, so a hostile depth must stop here.
MAX_DEPTH = 100
# Aliases may repeat what a body already holds up to this size in all, or twice the body's own
# size (go-yaml refuses "excessive aliasing" on a similar scale). A node weighs one plus the
# length of its scalar, so a long string repeated by aliases counts for what it will cost.
MAX_ALIAS_EXPANSION = 1_000_000
_ANCHOR = b"&"
_INT64 = (-(2**63), 2**64 - 1)  # what the store's JSON encoder can write


# The C loader where PyYAML was built with libyaml (a base chosen at run time, which a type
# checker cannot follow).
class _YamlLoader(yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):  # pyright: ignore[reportGeneralTypeIssues]
    """YAML as sigs.k8s.io/yaml reads an API body: timestamps stay strings."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def media_type(content_type: str | None) -> str:
    """The request body's media type (``patch.media_type``); none at all reads as JSON."""
    return patch.media_type(content_type) or JSON


def parse_document(body: bytes, content_type: str | None) -> object:
    kind = media_type(content_type)
    try:
        if kind in (JSON, "*/*", "text/plain"):
            return plain_json(orjson.loads(body))
        if kind in (YAML, "application/x-yaml", "text/yaml"):
            return plain_json(load_yaml(body))
        if kind == PROTOBUF:
            return plain_json(protobuf.decode(body))
    except (
        orjson.JSONDecodeError,
        yaml.YAMLError,
        UnicodeDecodeError,
        ValueError,
        RecursionError,
    ) as exc:
        raise BadRequest(f"the request body could not be decoded: {_short(exc)}") from None
    raise UnsupportedMediaType(
        f"the body of the request was in an unknown format - accepted "
        f"media types include: {JSON}, {YAML}, {PROTOBUF}"
    )


def load_yaml(body: bytes | str) -> object:
    """One YAML document, refused before it is built if its aliases would expand it."""
    loader = _YamlLoader(body)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _ANCHOR in (body if isinstance(body, bytes) else body.encode("utf-8", "replace")):
            _check_expansion(node)  # without an anchor there is no alias to expand
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_expansion(root: yaml.Node) -> None:
    """Weigh the document as it would be with every alias expanded, without expanding it: an
    alias is the same node object as its anchor, so sizes are memoised per node."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    weight = 0  # the body's own size in the same units: each distinct node once
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_nodes.discard(key)
            kids = _children(node)
            own = len(node.value) if isinstance(node, yaml.ScalarNode) else 0
            size[key] = 1 + own + sum(size[id(k)] for k in kids)
            weight += 1 + own
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            if depth[key] > MAX_DEPTH:
                raise ValueError(f"the document is nested deeper than {MAX_DEPTH} levels")
            continue
        if key in size:
            continue
        if key in open_nodes:
            raise ValueError("the document refers to itself through an alias")
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((kid, False) for kid in _children(node) if id(kid) not in size)
    if size[id(root)] > max(MAX_ALIAS_EXPANSION, 2 * weight):
        raise ValueError("the document contains excessive aliasing")


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def plain_json(value: object, depth: int = 0) -> object:
    """``value`` as the JSON data model holds it, or ValueError: string keys, valid Unicode,
    finite numbers, integers the store can write (larger ones become floats, as a JSON decoder
    reads them), nothing nested deeper than ``MAX_DEPTH``."""
    if depth > MAX_DEPTH:
        raise ValueError(f"the document is nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _unicode(value)
    if isinstance(value, int):
        return value if _INT64[0] <= value <= _INT64[1] else float(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"json: unsupported value: {value}")
        return value
    if isinstance(value, dict):
        return {_key(k): plain_json(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_json(v, depth + 1) for v in value]
    raise ValueError(f"a {type(value).__name__} value cannot be represented in JSON")


def _key(key: object) -> str:
    if isinstance(key, str):
        return _unicode(key)
    if key is None or isinstance(key, (bool, int, float)):
        return orjson.dumps(key).decode()  # YAML's 1, true, null keys, as JSON spells them
    raise ValueError(f"a {type(key).__name__} cannot be a JSON object key")


def _unicode(text: str) -> str:
    """YAML's "\\ud83d\\ude00" escapes arrive as two surrogates: join them, refuse halves."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        try:
            return text.encode("utf-16", "surrogatepass").decode("utf-16")
        except UnicodeDecodeError:
            raise ValueError("the document holds a string that is not valid Unicode") from None


def decode_object(
    rt: ResourceType, body: bytes, content_type: str | None, field_validation: str | None
) -> tuple[dict, list[str]]:
    """The object in the body and the warnings to send back."""
    doc = parse_document(body, content_type)
    if not isinstance(doc, dict):
        raise BadRequest(
            f'{rt.kind} in version "{rt.version}" cannot be handled as a '
            f"{rt.kind}: the body must be a JSON object"
        )
    return validate_fields(rt, doc, field_validation)


def check_patch(body: bytes) -> None:
    """A JSON, merge or strategic merge patch must be plain JSON no deeper than ``MAX_DEPTH``
    before the patch functions, which recurse, see it."""
    try:
        plain_json(orjson.loads(body))
    except ValueError as exc:  # orjson.JSONDecodeError is one
        raise BadRequest(f"invalid JSON in the patch body: {_short(exc)}") from None


def apply_configuration(
    rt: ResourceType, body: bytes, field_validation: str | None
) -> tuple[bytes, list[str]]:
    """A server-side apply body (JSON, or YAML read safely) decoded as a request body is,
    given back as JSON for the patch functions, with the warnings to send back."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        doc = parse_document(body, YAML)
    else:
        try:
            doc = plain_json(doc)
        except ValueError as exc:
            raise BadRequest(f"the request body could not be decoded: {_short(exc)}") from None
    if not isinstance(doc, dict):
        raise BadRequest("the apply configuration must be an object")
    doc, warnings = validate_fields(rt, doc, field_validation)
    return orjson.dumps(doc), warnings


def patched_object_check(
    rt: ResourceType, field_validation: str | None, warnings: list[str]
) -> Callable[[dict], dict]:
    """What the object client runs on a patched object before writing it: the checks of a
    request body, whose warnings land in ``warnings``."""

    def check(obj: dict) -> dict:
        try:
            obj = plain_json(obj)  # type: ignore[assignment]
        except ValueError as exc:
            raise BadRequest(f"the patched object cannot be stored: {_short(exc)}") from None
        obj, found = validate_fields(rt, obj, field_validation)
        warnings[:] = found  # a retried patch reports its last attempt only
        return obj

    return check


def validate_fields(
    rt: ResourceType, doc: dict, field_validation: str | None
) -> tuple[dict, list[str]]:
    mode = field_validation or "Warn"
    if mode not in _VALIDATION:
        raise BadRequest(
            f"fieldValidation parameter unsupported: {mode}; supported values: "
            f'"Ignore", "Strict", "Warn"'
        )
    type_errors = schema.type_errors(rt.kind, doc)
    if type_errors:
        raise BadRequest(
            f'{rt.kind} in version "{rt.version}" cannot be handled as a '
            f"{rt.kind}: {type_errors[0]}"
        )
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
    # YAML errors span lines (problem, then where); keep them whole but on one line.
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]
