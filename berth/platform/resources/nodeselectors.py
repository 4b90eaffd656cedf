"""Node selectors, matched the way Kubernetes matches them: ``spec.nodeSelector`` (a plain label
map) and ``nodeSelectorTerms`` as ``requiredDuringScheduling`` node affinity, volume node
affinity and storage class topologies read them: label expressions with In, NotIn, Exists,
DoesNotExist, Gt, Lt, and ``matchFields`` on ``metadata.name``.

A term is parsed once into a hashable ``Term`` (the scheduler keeps terms in a pod's
equivalence class) and matched many times. As in component-helpers ``nodeaffinity``, a term
that does not parse (an unknown operator, ``In`` with no values, ``Gt`` with a value that is
not an integer, a field other than ``metadata.name``) matches no node, and neither does an
empty term; the terms of a selector are ORed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from berth.platform.errors import BadRequest
from berth.platform.resources.selectors import (
    _NODE_OPERATORS,
    EQUALS,
    NOT_EQUALS,
    Requirement,
    _expression,
)


@dataclass(frozen=True)
class Term:
    """One ``nodeSelectorTerms[]`` entry, parsed: every requirement must hold (AND).
    ``valid`` is False for a term that did not parse; such a term matches no node."""

    expressions: tuple[Requirement, ...] = ()
    fields: tuple[Requirement, ...] = ()
    valid: bool = True


def parse_term(term: Mapping) -> Term:
    """A ``NodeSelectorTerm`` dict as a ``Term`` (never raises: see ``Term.valid``)."""
    try:
        return Term(
            tuple(
                _expression(e, _NODE_OPERATORS, "node selector")
                for e in term.get("matchExpressions") or []
            ),
            tuple(_node_field(f) for f in term.get("matchFields") or []),
        )
    except BadRequest:
        return Term(valid=False)


def parse_terms(selector: Mapping | None) -> tuple[Term, ...]:
    """A ``NodeSelector`` dict (``nodeSelectorTerms``) as its terms."""
    return tuple(parse_term(t) for t in (selector or {}).get("nodeSelectorTerms") or [])


def term_matches(term: Term, labels: Mapping[str, str] | None, node_name: str = "") -> bool:
    """Its ``matchExpressions`` over the node's labels AND its ``matchFields`` over the node's
    name. A term with neither, or one that did not parse, matches no node."""
    if not term.valid or (not term.expressions and not term.fields):
        return False
    labels = labels or {}
    if not all(r.matches(labels) for r in term.expressions):
        return False
    fields = {"metadata.name": node_name}
    return all(r.matches(fields) for r in term.fields)


def terms_match(
    terms: Iterable[Term], labels: Mapping[str, str] | None, node_name: str = ""
) -> bool:
    """Terms are ORed; no terms select no node."""
    return any(term_matches(t, labels, node_name) for t in terms)


def node_selector_term_matches(
    term: Mapping, labels: Mapping[str, str] | None, node_name: str = ""
) -> bool:
    """One ``nodeSelectorTerms[]`` dict, parsed and matched."""
    return term_matches(parse_term(term), labels, node_name)


def node_selector_matches(
    selector: Mapping | None, labels: Mapping[str, str] | None, node_name: str = ""
) -> bool:
    """A ``NodeSelector`` dict: its terms are ORed; no terms selects no node."""
    return terms_match(parse_terms(selector), labels, node_name)


def labels_match(node_selector: Iterable[tuple[str, str]], labels: Mapping[str, str]) -> bool:
    """``spec.nodeSelector`` (as its ``(key, value)`` pairs): every label present with exactly
    that value."""
    return all(labels.get(key) == value for key, value in node_selector)


def _node_field(expr: Mapping) -> Requirement:
    if not isinstance(expr, Mapping):
        raise BadRequest("a node field selector requirement must be an object")
    op, values = expr.get("operator"), list(expr.get("values") or [])
    if expr.get("key") != "metadata.name":
        raise BadRequest(f'"{expr.get("key")}" is not a valid node field selector key')
    if op not in ("In", "NotIn"):
        raise BadRequest(f'"{op}" is not a valid node field selector operator')
    if len(values) != 1:
        raise BadRequest(
            f'unexpected number of value ({len(values)}) for node field selector operator "{op}"'
        )
    return Requirement("metadata.name", EQUALS if op == "In" else NOT_EQUALS, tuple(values))
