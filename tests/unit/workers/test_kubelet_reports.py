"""Reports of lost containers wait for proof that their agent outlived them."""

import pytest

from berth.workers.control.reports import START_DEFER_S, HeldReports, StatusReports


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


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def status_report(uid, phase, waiting=None):
    state = {"waiting": {"reason": waiting}} if waiting else {"running": {}}
    return {
        "uid": uid,
        "status": {"phase": phase, "containerStatuses": [{"name": "c", "state": state}]},
    }


STARTING = "Pending", "ContainerCreating"


@pytest.fixture
def reports():
    return StatusReports(None, None, 1.0, monotonic=Clock())  # type: ignore[arg-type]


def uids(batch):
    return [(u["uid"], u["status"]["phase"]) for u, _ in batch]


def test_a_normal_start_waits_for_the_status_that_replaces_it(reports):
    assert reports.to_write("n1", 100.0, [status_report("a", *STARTING)]) == []
    reports.monotonic.now += 0.05
    batch = reports.to_write("n1", 100.05, [status_report("a", "Running")])
    assert uids(batch) == [("a", "Running")]
    reports.deferred.drop("a")  # what apply does for the report written
    reports.monotonic.now += 1.0
    assert reports.to_write("n1", 101.05, []) == []


def test_a_start_nothing_follows_is_written_once_it_has_waited(reports):
    reports.to_write("n1", 100.0, [status_report("a", *STARTING)])
    reports.monotonic.now += START_DEFER_S / 2
    assert reports.to_write("n1", reports.monotonic.now, []) == []
    assert reports.to_write("n2", reports.monotonic.now, []) == []  # another node's answer
    reports.monotonic.now += START_DEFER_S
    assert uids(reports.to_write("n1", reports.monotonic.now, [])) == [("a", "Pending")]


def test_other_statuses_are_written_at_once(reports):
    waiting = status_report("b", "Pending", "ErrImagePull")  # something is wrong: say so now
    batch = reports.to_write("n1", 100.0, [status_report("a", "Running"), waiting])
    assert uids(batch) == [("a", "Running"), ("b", "Pending")]


class StoreDown:
    """A client whose every batch fails, as the store does when its database is away."""

    def batch(self):
        raise RuntimeError("store down")


class NoPods:
    class lookups:
        @staticmethod
        def pod(ns, name, uid):
            return None


class AgentRef:
    node_id, node_name = "n1", "node-1"


def lost_report(uid):
    terminated = {"terminated": {"reason": "ContainerStatusUnknown", "exitCode": 137}}
    return {
        "uid": uid,
        "namespace": "ns",
        "name": uid,
        "status": {"phase": "Failed", "containerStatuses": [{"name": "c", "state": terminated}]},
    }


def test_reports_released_into_a_failed_write_are_held_again():
    """A held report (lost containers, now confirmed) and a deferred start go into the
    batch of the next answer; when that batch's write fails, asking again from the same
    cursor brings back only the answer's own reports, so the released ones are held again
    and the next answer of their node writes them."""
    reports = StatusReports(StoreDown(), NoPods(), 1.0, monotonic=Clock())  # type: ignore[arg-type]
    reports.held.hold("n1", lost_report("a"), 90.0)
    reports.deferred.hold("n1", status_report("b", *STARTING), 99.0)
    answer = [status_report("c", "Running")]
    reports.take(AgentRef(), 100.0, 7, answer)
    assert "n1" not in reports.cursors  # the answer is asked for again
    assert (len(reports.held), len(reports.deferred)) == (1, 1)
    reports.monotonic.now += 0.01
    batch = reports.to_write("n1", reports.monotonic.now, answer)
    assert sorted(uids(batch)) == [("a", "Failed"), ("b", "Pending"), ("c", "Running")]
    assert [confirmed for u, confirmed in batch if u["uid"] == "a"] == [True]
