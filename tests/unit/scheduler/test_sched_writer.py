"""The PodScheduled=False condition the scheduler writes for a pod that fits nowhere."""

from __future__ import annotations

import copy

import pytest

from berth.scheduler.writer import unschedulable_condition
from tests.unit.scheduler.sched_builders import pod_obj

NOW, EARLIER = "2026-11-25T12:00:00Z", "2026-11-25T11:00:00Z"
MESSAGE = "0/1 nodes are available: 1 Insufficient cpu."


def scheduled(status: str, message: str | None = None, since: str = EARLIER) -> dict:
    out = {
        "type": "PodScheduled",
        "status": status,
        "lastProbeTime": None,
        "lastTransitionTime": since,
    }
    if message is not None:
        out.update(reason="Unschedulable", message=message)
    return out


def with_conditions(*conditions: dict) -> dict:
    pod = pod_obj("p")
    pod["status"] = {"phase": "Pending", "conditions": list(conditions)}
    return pod


def test_a_pod_without_the_condition_gets_it():
    pod = unschedulable_condition(with_conditions(), MESSAGE, NOW)
    assert pod["status"]["conditions"] == [scheduled("False", MESSAGE, since=NOW)]


def test_a_new_message_keeps_the_time_it_became_unschedulable():
    other = {"type": "Custom", "status": "True"}
    pod = unschedulable_condition(
        with_conditions(other, scheduled("False", "0/0 nodes are available")), MESSAGE, NOW
    )
    assert pod["status"]["conditions"] == [other, scheduled("False", MESSAGE, since=EARLIER)]


@pytest.mark.parametrize(
    "change",
    [
        lambda pod: pod["status"]["conditions"].append(scheduled("False", MESSAGE)),
        lambda pod: pod["spec"].update(nodeName="n"),
        lambda pod: pod["metadata"].update(deletionTimestamp=NOW),
    ],
)
def test_nothing_to_write(change):
    pod = with_conditions()
    change(pod)
    assert unschedulable_condition(copy.deepcopy(pod), MESSAGE, NOW) is None
