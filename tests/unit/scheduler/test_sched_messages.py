"""The aggregated FitError message, character for character."""

from __future__ import annotations

import pytest

from berth.scheduler.messages import fit_error_message


@pytest.mark.parametrize(
    "nodes, histogram, unresolvable, want",
    [
        (
            3,
            {
                "Insufficient nvidia.com/gpu": 2,
                "node(s) didn't match Pod's node affinity/selector": 1,
            },
            False,
            "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
            "2 Insufficient nvidia.com/gpu.",
        ),
        # Go's sort.Strings over "<count> <reason>": "10 ..." sorts before "2 ..."
        (
            12,
            {"Insufficient cpu": 10, "Insufficient memory": 2},
            False,
            "0/12 nodes are available: 10 Insufficient cpu, 2 Insufficient memory.",
        ),
        (
            3,
            {"Insufficient cpu": 3, "Insufficient memory": 3},
            False,
            "0/3 nodes are available: 3 Insufficient cpu, 3 Insufficient memory.",
        ),
        (
            2,
            {"Insufficient nvidia.com/gpu": 2},
            True,
            "0/2 nodes are available: 2 Insufficient nvidia.com/gpu. preemption: 0/2 nodes are "
            "available: 2 Preemption is not helpful for scheduling.",
        ),
        (0, {}, True, "0/0 nodes are available: no nodes available to schedule pods."),
        (1, {}, False, "0/1 nodes are available:"),
    ],
)
def test_fit_error_message(nodes, histogram, unresolvable, want):
    assert fit_error_message(nodes, histogram, unresolvable) == want
