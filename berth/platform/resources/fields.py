"""Field selectors: ``?fieldSelector=`` with the syntax of apimachinery ``fields/selector.go``
and, per kind, the fields kube-apiserver lets clients select on (the field label conversion
functions and ``ToSelectableFields`` of each registry).

Values are compared as strings, the way Kubernetes renders them: a missing field is ``""``
(``spec.nodeName=`` selects unbound pods), booleans are ``true``/``false``, integers decimal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from berth.platform.errors import BadRequest
from berth.platform.resources.meta import dig

EQUALS, NOT_EQUALS = "=", "!="
# The order matters: at one position "!=" must win over "=" and "==" over "=".
_OPERATORS = ("!=", "==", "=")

_META = frozenset({"metadata.name", "metadata.namespace"})

# Kinds with their own conversion function; every other kind gets the default
# (``metadata.name`` and ``metadata.namespace``). Node and Namespace deliberately lack
# ``metadata.namespace``, as in Kubernetes.
SUPPORTED: dict[str, frozenset[str]] = {
    "Pod": _META
    | {
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    },
    "Event": _META
    | {
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    },
    "Job": _META | {"status.successful"},
    "Namespace": frozenset({"metadata.name", "status.phase"}),
    "Node": frozenset({"metadata.name", "spec.unschedulable"}),
    "Secret": _META | {"type"},
}

# Old clients' names, translated before anything else (``spec.host`` predates ``nodeName``).
_ALIASES = {("Pod", "spec.host"): "spec.nodeName"}


def _pod_ip(obj: dict) -> object:
    ips = dig(obj, "status", "podIPs") or []
    if ips and isinstance(ips[0], dict):
        return ips[0].get("ip")
    return dig(obj, "status", "podIP")


# Fields whose selectable value is not simply the value at that path.
_EXTRACTORS: dict[tuple[str, str], Callable[[dict], object]] = {
    ("Pod", "spec.hostNetwork"): lambda o: bool(dig(o, "spec", "hostNetwork", default=False)),
    ("Pod", "status.podIP"): _pod_ip,
    ("Job", "status.successful"): lambda o: dig(o, "status", "succeeded", default=0),
    ("Node", "spec.unschedulable"): lambda o: bool(dig(o, "spec", "unschedulable", default=False)),
    # core/v1 calls ReportingController "reportingComponent"; "source" falls back to it.
    ("Event", "source"): lambda o: dig(o, "source", "component") or o.get("reportingComponent"),
}


def supported_fields(kind: str) -> frozenset[str]:
    return SUPPORTED.get(kind, _META)


def field_value(kind: str, obj: dict, field: str) -> str:
    """The string Kubernetes compares for ``field`` of ``obj``."""
    extract = _EXTRACTORS.get((kind, field))
    value = extract(obj) if extract else dig(obj, *field.split("."))
    return _render(value)


def _render(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class FieldSelector:
    kind: str
    requirements: tuple[tuple[str, str, str], ...] = ()  # (field, "=" | "!=", value)

    @property
    def empty(self) -> bool:
        return not self.requirements

    def matches(self, obj: dict) -> bool:
        for field, op, value in self.requirements:
            if (field_value(self.kind, obj, field) == value) != (op == EQUALS):
                return False
        return True

    def __str__(self) -> str:
        return ",".join(f"{f}{op}{escape_value(v)}" for f, op, v in self.requirements)


def parse(text: str, kind: str) -> FieldSelector:
    """Parse a field selector for objects of ``kind``; BadRequest on bad syntax or a field
    Kubernetes does not let clients select on for that kind."""
    terms = []
    for part in sorted(_split_terms(text or "")):
        if not part:
            continue
        split = _split_term(part)
        if split is None:
            raise BadRequest(f"invalid selector: '{text}'; can't understand '{part}'")
        field, op, raw = split
        terms.append((field, EQUALS if op in ("=", "==") else NOT_EQUALS, unescape_value(raw)))
    allowed = supported_fields(kind)
    out = []
    for field, op, value in terms:
        field = _ALIASES.get((kind, field), field)
        if field not in allowed:
            raise BadRequest(f"field label not supported: {field}")
        out.append((field, op, value))
    return FieldSelector(kind, tuple(out))


def _split_terms(text: str) -> list[str]:
    """Split on commas that are not escaped."""
    if not text:
        return []
    terms, start, escaped = [], 0, False
    for i, ch in enumerate(text):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    for i in range(len(term)):
        for op in _OPERATORS:
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op) :]
    return None


def unescape_value(text: str) -> str:
    """``fields.UnescapeValue``: ``\\\\``, ``\\,`` and ``\\=`` are the only escapes, and a bare
    ``,`` or ``=`` may not appear in a value."""
    out, escaped = [], False
    for ch in text:
        if escaped:
            if ch not in "\\,=":
                raise BadRequest(f"invalid field selector: invalid escape sequence: \\{ch}")
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in ",=":
            raise BadRequest(f"invalid field selector: unescaped character in value: {ch}")
        else:
            out.append(ch)
    if escaped:
        raise BadRequest("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def escape_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")
