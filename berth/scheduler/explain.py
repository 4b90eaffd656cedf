"""Why a pod fits nowhere: every node's first rejection, counted by reason.

Works group by group and free class by free class like the search, so explaining a failure
over thousands of nodes costs what one search costs.
"""

from __future__ import annotations

from collections import Counter
from typing import NamedTuple

from berth.scheduler.filters import REASON_RESERVED, node_resources_fit, static_rejection
from berth.scheduler.messages import fit_error_message
from berth.scheduler.snapshot import Snapshot
from berth.scheduler.views import PodRequest


class Explanation(NamedTuple):
    message: str
    unresolvable: bool
    histogram: dict[str, int]


def explain(pod: PodRequest, snapshot: Snapshot, own_node: str | None = None) -> Explanation:
    """The kube-scheduler style message for ``pod``, and whether waiting can help.

    Held nodes count as reserved for someone else, except ``own_node`` (held for this very
    pod), which counts by its real reasons. The pod is unresolvable when every node rejects
    it for a reason no finishing pod could remove.
    """
    if pod.uses_node_name:
        return explain_by_node(pod, snapshot, own_node)
    histogram: Counter[str] = Counter()
    resolvable = False
    for group in snapshot.groups:
        rejection = snapshot.static_rejection(pod, group)
        if rejection is not None:
            for reason in rejection.reasons:
                histogram[reason] += group.size
            continue
        resolvable = True
        for members in group.classes.values():
            rejection = node_resources_fit(pod, next(iter(members.values())))
            if rejection is not None:
                for reason in rejection.reasons:
                    histogram[reason] += len(members)
    for name in snapshot.held:
        if snapshot.static_rejection(pod, snapshot.group_of(name)) is not None:
            continue  # already counted with its group
        if name == own_node:
            rejection = node_resources_fit(pod, snapshot.node(name))
            for reason in rejection.reasons if rejection else ():
                histogram[reason] += 1
        else:
            histogram[REASON_RESERVED] += 1
    unresolvable = not resolvable
    return Explanation(
        fit_error_message(len(snapshot), histogram, unresolvable), unresolvable, dict(histogram)
    )


def explain_by_node(
    pod: PodRequest, snapshot: Snapshot, own_node: str | None = None
) -> Explanation:
    """``explain`` one node at a time: for pods whose affinity names nodes, and as the
    reference the grouped version is tested against."""
    histogram: Counter[str] = Counter()
    resolvable = False
    for node in snapshot:
        rejection = static_rejection(pod, node)
        if rejection is None:
            resolvable = True
            if snapshot.is_held(node.name) and node.name != own_node:
                histogram[REASON_RESERVED] += 1
                continue
            rejection = node_resources_fit(pod, node)
        for reason in rejection.reasons if rejection else ():
            histogram[reason] += 1
    unresolvable = not resolvable
    return Explanation(
        fit_error_message(len(snapshot), histogram, unresolvable), unresolvable, dict(histogram)
    )
