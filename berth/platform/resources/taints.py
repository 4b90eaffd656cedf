"""Taints and tolerations, matched the way Kubernetes matches them (``Toleration.ToleratesTaint``).

The scheduler's filters and scorers and the workers' taint manager both ask ``tolerates`` here.
``Taint`` and ``Toleration`` are hashable tuples built once from the wire dicts (the scheduler
keeps them in its snapshot and in a pod's equivalence class); ``tolerationSeconds`` is not part
of matching and stays with the taint manager, which reads it from the dict.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

NO_SCHEDULE = "NoSchedule"
PREFER_NO_SCHEDULE = "PreferNoSchedule"
NO_EXECUTE = "NoExecute"
EQUAL = "Equal"
EXISTS = "Exists"

# The taints Kubernetes' node lifecycle controller puts on nodes (well-known keys).
NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"


class Taint(NamedTuple):
    key: str
    value: str
    effect: str


class Toleration(NamedTuple):
    key: str = ""
    operator: str = EQUAL
    value: str = ""
    effect: str = ""


def taint_of(taint: Mapping) -> Taint:
    """A ``spec.taints[]`` entry; missing fields are empty."""
    return Taint(taint.get("key") or "", taint.get("value") or "", taint.get("effect") or "")


def toleration_of(toleration: Mapping) -> Toleration:
    """A ``spec.tolerations[]`` entry; a missing operator is ``Equal``."""
    return Toleration(
        toleration.get("key") or "",
        toleration.get("operator") or EQUAL,
        toleration.get("value") or "",
        toleration.get("effect") or "",
    )


def tolerates(toleration: Toleration, taint: Taint) -> bool:
    """An empty effect matches every effect; an empty key (with ``Exists``) every key; an
    empty operator means ``Equal``; an unknown operator tolerates nothing."""
    if toleration.effect and toleration.effect != taint.effect:
        return False
    if toleration.key and toleration.key != taint.key:
        return False
    if toleration.operator == EXISTS:
        return True
    if toleration.operator in ("", EQUAL):
        return toleration.value == taint.value
    return False


def first_untolerated(
    taints: Iterable[Taint],
    tolerations: Iterable[Toleration],
    effects: tuple[str, ...] = (NO_SCHEDULE, NO_EXECUTE),
) -> Taint | None:
    """The first taint with one of ``effects`` that no toleration tolerates."""
    tolerations = tuple(tolerations)
    for taint in taints:
        if taint.effect in effects and not any(tolerates(t, taint) for t in tolerations):
            return taint
    return None
