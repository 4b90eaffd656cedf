"""Reports of lost containers wait for proof that their agent outlived them."""

import pytest

from berth.workers.control.reports import HeldReports


def report(uid):
    return {"uid": uid, "status": {"phase": "Failed"}}


@pytest.mark.parametrize(
    "node, asked_at, now, released",
    [
        ("n1", 12.0, 12.5, ["a"]),  # a call sent confirm_s after the report was answered
        ("n1", 11.0, 12.5, []),  # sent too soon after: the agent may be dying still
        ("n2", 20.0, 20.5, []),  # another agent's answer proves nothing
        ("n2", 20.0, 70.0, ["a"]),  # held too long: written anyway
    ],
)
def test_release(node, asked_at, now, released):
    held = HeldReports(confirm_s=2.0, max_hold_s=60.0)
    held.hold("n1", report("a"), 10.0)
    assert [r["uid"] for r in held.release(node, asked_at, now)] == released
    assert len(held) == 1 - len(released)


def test_reports_of_agents_that_left_are_dropped():
    held = HeldReports()
    held.hold("n1", report("a"), 0.0)
    held.hold("n2", report("b"), 0.0)
    held.forget_nodes_except({"n2"})
    assert [r["uid"] for r in held.release("n2", 100.0, 100.0)] == ["b"]
    assert len(held) == 0
