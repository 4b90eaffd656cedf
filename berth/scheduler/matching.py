"""Node selector terms and tolerations, matched the way Kubernetes matches them.

A small matcher of our own so the scheduler depends on nothing outside its package
(``berth/platform/resources/selectors.py`` may grow an equivalent for label queries).
"""

from __future__ import annotations

from typing import Mapping, NamedTuple

NO_SCHEDULE = "NoSchedule"
PREFER_NO_SCHEDULE = "PreferNoSchedule"
NO_EXECUTE = "NoExecute"


class Requirement(NamedTuple):
    """One ``matchExpressions`` / ``matchFields`` entry of a node selector term."""

    key: str
    operator: str
    values: tuple[str, ...] = ()


class Term(NamedTuple):
    """One ``nodeSelectorTerms`` entry: every requirement must hold (AND)."""

    expressions: tuple[Requirement, ...] = ()
    fields: tuple[Requirement, ...] = ()


class Taint(NamedTuple):
    key: str
    value: str
    effect: str


class Toleration(NamedTuple):
    key: str = ""
    operator: str = "Equal"
    value: str = ""
    effect: str = ""


def requirement_matches(req: Requirement, labels: Mapping[str, str]) -> bool:
    """Kubernetes' ``NodeSelectorRequirement`` semantics; an unknown operator never matches."""
    present = req.key in labels
    op = req.operator
    if op == "In":
        return present and labels[req.key] in req.values
    if op == "NotIn":
        return not present or labels[req.key] not in req.values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt"):
        # Both sides must parse as integers; a label that does not is simply no match.
        if not present or len(req.values) != 1:
            return False
        try:
            have, want = int(labels[req.key]), int(req.values[0])
        except ValueError:
            return False
        return have > want if op == "Gt" else have < want
    return False


def term_matches(term: Term, labels: Mapping[str, str], node_name: str) -> bool:
    """A term with no requirements at all matches nothing, as in Kubernetes."""
    if not term.expressions and not term.fields:
        return False
    if not all(requirement_matches(req, labels) for req in term.expressions):
        return False
    # The only field Kubernetes supports in matchFields is metadata.name.
    fields = {"metadata.name": node_name}
    return all(requirement_matches(req, fields) for req in term.fields)


def terms_match(terms: tuple[Term, ...], labels: Mapping[str, str], node_name: str) -> bool:
    """``nodeSelectorTerms`` are ORed."""
    return any(term_matches(term, labels, node_name) for term in terms)


def selector_matches(selector: tuple[tuple[str, str], ...], labels: Mapping[str, str]) -> bool:
    """``spec.nodeSelector``: every label must be present with exactly that value."""
    return all(labels.get(key) == value for key, value in selector)


def tolerates(toleration: Toleration, taint: Taint) -> bool:
    """``Toleration.ToleratesTaint``: empty effect matches every effect, empty key with
    ``Exists`` matches every key."""
    if toleration.effect and toleration.effect != taint.effect:
        return False
    if toleration.key and toleration.key != taint.key:
        return False
    if toleration.operator == "Exists":
        return True
    if toleration.operator in ("", "Equal"):
        return toleration.value == taint.value
    return False


def first_untolerated(taints: tuple[Taint, ...], tolerations: tuple[Toleration, ...],
                      effects: tuple[str, ...] = (NO_SCHEDULE, NO_EXECUTE)) -> Taint | None:
    """The first taint with one of ``effects`` that no toleration tolerates."""
    for taint in taints:
        if taint.effect in effects and not any(tolerates(t, taint) for t in tolerations):
            return taint
    return None
