"""Which reports of an agent's answer tell the scheduler that a pod's place is free."""

import pytest

from berth.workers.control.reports import ended
from berth.workers.status import UNKNOWN_REASON


def status(phase: str, reason: str = "Completed") -> dict:
    state = {"terminated": {"exitCode": 0, "reason": reason}} if phase != "Running" else {}
    return {"phase": phase, "containerStatuses": [{"name": "c", "state": state}]}


@pytest.mark.parametrize(
    "reported, confirmed, is_end",
    [
        (status("Succeeded"), False, True),
        (status("Failed", "Error"), False, True),
        (status("Running"), False, False),
        ({"phase": "Pending"}, False, False),
        # Containers lost: the node may be dying, its process may still run.
        (status("Failed", UNKNOWN_REASON), False, False),
        (status("Failed", UNKNOWN_REASON), True, True),  # the agent outlived the report
    ],
)
def test_ended(reported, confirmed, is_end):
    update = {"uid": "u", "namespace": "ns", "name": "p", "status": reported}
    assert ended([(update, confirmed)]) == ([update] if is_end else [])
