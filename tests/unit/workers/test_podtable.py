"""The node agent's pod table: which status changes it saves, and what a successor recovers."""

import json

import pytest

from berth.workers.node.podtable import PodTable, durable_view
from berth.workers.node.records import PodRecord
from berth.workers.status import lost_status, waiting_status

POD = {
    "metadata": {"name": "p", "namespace": "ns", "uid": "u"},
    "spec": {"restartPolicy": "OnFailure", "containers": [{"name": "c", "image": "busybox"}]},
}
NOW = "2025-01-01T00:00:00Z"
RUNNING = {"running": {"startedAt": NOW}}
EXITED = {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": NOW, "finishedAt": NOW}}
DONE = {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": NOW, "finishedAt": NOW}}


def status(phase: str, state: dict, restarts: int = 0, last: dict | None = None) -> dict:
    cs = {"name": "c", "state": state, "ready": "running" in state, "restartCount": restarts}
    if last is not None:
        cs["lastState"] = last
    return {"phase": phase, "containerStatuses": [cs]}


def saved(table: PodTable) -> dict:
    return json.loads((table.pod_root / "u" / "status.json").read_text())["status"]


@pytest.mark.parametrize(
    "before, after, same",
    [
        (waiting_status(POD, "10.0.0.1", NOW), status("Running", RUNNING), True),
        (status("Running", RUNNING), status("Pending", {"waiting": {}}, 1, EXITED), False),
        (status("Running", RUNNING), status("Running", EXITED), False),
        (status("Running", EXITED), status("Failed", EXITED), False),
        (status("Running", RUNNING, 2), status("Running", RUNNING, 3), False),
    ],
)
def test_durable_view(before, after, same):
    assert (durable_view(before) == durable_view(after)) is same


def test_a_running_container_is_not_saved_its_end_is(tmp_path):
    table = PodTable(tmp_path)
    rec = table.pods["u"] = PodRecord("u", POD)
    first = waiting_status(POD, "10.0.0.1", NOW)
    table.set_status(rec, first)
    assert saved(table) == first
    table.set_status(rec, status("Running", RUNNING))
    assert saved(table) == first  # a successor would mark it lost all the same
    backoff = status("Running", {"waiting": {"reason": "CrashLoopBackOff"}}, 0, EXITED)
    table.set_status(rec, backoff)
    assert saved(table) == backoff
    done = status("Succeeded", DONE, 1, EXITED)
    table.set_status(rec, done)
    assert saved(table) == done
    again = {**done, "message": "said twice"}
    table.set_status(rec, again)
    assert saved(table) == again  # a finished pod's status is saved whole
    assert table.changed_since(0) == [rec] and rec.status == again


def test_a_successor_marks_the_unfinished_lost_and_keeps_the_finished(tmp_path):
    table = PodTable(tmp_path)
    rec = table.pods["u"] = PodRecord("u", POD)
    table.set_status(rec, status("Running", RUNNING, 1, EXITED))
    table.set_status(rec, status("Running", RUNNING, 1, EXITED) | {"podIP": "10.0.0.1"})
    other = {**POD, "metadata": {**POD["metadata"], "uid": "v", "name": "q"}}
    done = table.pods["v"] = PodRecord("v", other)
    table.set_status(done, status("Succeeded", DONE))

    successor = PodTable(tmp_path)
    successor.recover(lambda pod, st: lost_status(pod, st, "10.0.0.1", NOW, "lost"))
    lost = successor.pods["u"].status
    assert lost is not None and lost["phase"] == "Failed"
    (cs,) = lost["containerStatuses"]
    assert cs["restartCount"] == 1 and cs["lastState"] == EXITED
    assert cs["state"]["terminated"]["reason"] == "ContainerStatusUnknown"
    assert successor.pods["v"].status == status("Succeeded", DONE)
    assert [r.uid for r in successor.changed_since(0)] == ["u", "v"]
