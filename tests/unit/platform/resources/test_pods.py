"""The one "has this pod ended?" rule, over a pod, a status and a phase."""

from __future__ import annotations

import pytest

from berth.platform.resources.pods import (
    PHASES,
    is_terminal,
    is_terminal_phase,
    phase,
    status_is_terminal,
)


@pytest.mark.parametrize(
    "pod, want_phase, terminal",
    [
        ({"status": {"phase": "Succeeded"}}, "Succeeded", True),
        ({"status": {"phase": "Failed"}}, "Failed", True),
        ({"status": {"phase": "Running"}}, "Running", False),
        ({"status": {"phase": "Pending"}}, "Pending", False),
        ({"status": {"phase": "Unknown"}}, "Unknown", False),
        ({"status": {}}, None, False),
        ({"status": None}, None, False),
        ({}, None, False),
        (None, None, False),
    ],
)
def test_pod(pod, want_phase, terminal):
    assert phase(pod) == want_phase
    assert is_terminal(pod) is terminal
    assert status_is_terminal((pod or {}).get("status")) is terminal


def test_only_succeeded_and_failed_are_terminal():
    assert [p for p in PHASES if is_terminal_phase(p)] == ["Succeeded", "Failed"]
    assert not is_terminal_phase(None)
    assert not is_terminal_phase("succeeded")  # phases are case-sensitive, as in Kubernetes
