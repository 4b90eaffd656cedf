"""Node selectors (``nodeSelectorTerms``) as ``requiredDuringScheduling`` node affinity reads
them: label expressions with In, NotIn, Exists, DoesNotExist, Gt, Lt, and ``matchFields`` on
``metadata.name``."""

from __future__ import annotations

from collections.abc import Mapping

from berth.platform.errors import BadRequest
from berth.platform.resources.selectors import (
    _NODE_OPERATORS,
    EQUALS,
    NOT_EQUALS,
    Requirement,
    _expression,
)


def node_selector_term_matches(term: Mapping, labels: Mapping[str, str],
                               node_name: str = "") -> bool:
    """One ``nodeSelectorTerms[]`` entry (component-helpers ``nodeaffinity``): its
    ``matchExpressions`` (In, NotIn, Exists, DoesNotExist, Gt, Lt) over the node's labels AND
    its ``matchFields`` (``metadata.name`` In/NotIn one value). A term with neither, or one
    that does not parse, matches no node."""
    expressions = term.get("matchExpressions") or []
    match_fields = term.get("matchFields") or []
    if not expressions and not match_fields:
        return False
    try:
        reqs = [_expression(e, _NODE_OPERATORS, "node selector") for e in expressions]
        field_reqs = [_node_field(f) for f in match_fields]
    except BadRequest:
        return False
    labels = labels or {}
    fields = {"metadata.name": node_name}
    return all(r.matches(labels) for r in reqs) and all(r.matches(fields) for r in field_reqs)


def node_selector_matches(selector: Mapping | None, labels: Mapping[str, str],
                          node_name: str = "") -> bool:
    """A ``NodeSelector``: its terms are ORed; no terms selects no node."""
    terms = (selector or {}).get("nodeSelectorTerms") or []
    return any(node_selector_term_matches(t, labels, node_name) for t in terms)


def _node_field(expr: Mapping) -> Requirement:
    if not isinstance(expr, Mapping):
        raise BadRequest("a node field selector requirement must be an object")
    op, values = expr.get("operator"), list(expr.get("values") or [])
    if expr.get("key") != "metadata.name":
        raise BadRequest(f'"{expr.get("key")}" is not a valid node field selector key')
    if op not in ("In", "NotIn"):
        raise BadRequest(f'"{op}" is not a valid node field selector operator')
    if len(values) != 1:
        raise BadRequest(f'unexpected number of value ({len(values)}) for node field selector '
                         f'operator "{op}"')
    return Requirement("metadata.name", EQUALS if op == "In" else NOT_EQUALS, tuple(values))
