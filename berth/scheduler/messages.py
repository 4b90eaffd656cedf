"""The "why is my pod Pending" message, aggregated the way kube-scheduler's FitError is."""

from __future__ import annotations

from collections.abc import Mapping

NO_NODES = "no nodes available to schedule pods"
NOT_HELPFUL = "Preemption is not helpful for scheduling"


def fit_error_message(
    num_nodes: int, histogram: Mapping[str, int], unresolvable: bool = False
) -> str:
    """``0/3 nodes are available: 1 node(s) didn't match ..., 2 Insufficient cpu.``

    Entries are ``"<count> <reason>"`` sorted as plain strings (Go's ``sort.Strings``), so
    the count leads the ordering exactly as in kube-scheduler. When every node's rejection is
    unresolvable, the sentence kube-scheduler's preemption step adds in that case follows,
    which is how Kubernetes says "waiting will not help".
    """
    if num_nodes == 0:
        return f"0/0 nodes are available: {NO_NODES}."
    message = f"0/{num_nodes} nodes are available:"
    entries = sorted(f"{count} {reason}" for reason, count in histogram.items() if count)
    if entries:
        message += f" {', '.join(entries)}."
    if unresolvable:
        message += f" preemption: 0/{num_nodes} nodes are available: {num_nodes} {NOT_HELPFUL}."
    return message


def prefilter_message(num_nodes: int, reason: str) -> str:
    """A pod no node was even looked at for (a PreFilter verdict, such as a missing claim):
    ``0/3 nodes are available: persistentvolumeclaim "x" not found. preemption: ...``."""
    return (
        f"0/{num_nodes} nodes are available: {reason}. preemption: 0/{num_nodes} nodes "
        f"are available: {num_nodes} {NOT_HELPFUL}."
    )
