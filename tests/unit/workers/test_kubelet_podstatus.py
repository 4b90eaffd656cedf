"""Merging an agent's report into the stored pod status (the kubelet's status manager)."""

import pytest

from berth.workers.control.kubelet import matters_to_agent
from berth.workers.control.podstatus import containers_lost, merge_conditions, merge_status
from berth.workers.control.reports import finishing

T0, T1 = "2026-01-01T00:00:00Z", "2026-01-01T00:00:09Z"


def cond(kind, status="True", at=T0, **extra):
    return {"type": kind, "status": status, "lastTransitionTime": at, **extra}


@pytest.mark.parametrize(
    "stored, reported, written",
    [
        # Pending to Running: written, with what others own kept.
        (
            {"phase": "Pending", "qosClass": "BestEffort", "nominatedNodeName": "n"},
            {"phase": "Running", "qosClass": "BestEffort"},
            {"phase": "Running", "qosClass": "BestEffort", "nominatedNodeName": "n"},
        ),
        # The same report again: nothing to write.
        ({"phase": "Running"}, {"phase": "Running"}, None),
        # Terminal phases never change ...
        ({"phase": "Failed"}, {"phase": "Running"}, None),
        ({"phase": "Succeeded"}, {"phase": "Failed"}, None),
        # ... but a terminal report may complete a terminal status.
        (
            {"phase": "Failed"},
            {"phase": "Failed", "message": "m"},
            {"phase": "Failed", "message": "m"},
        ),
        # qosClass and startTime are set once.
        (
            {"phase": "Pending", "qosClass": "Burstable", "startTime": T0},
            {"phase": "Running", "qosClass": "BestEffort", "startTime": T1},
            {"phase": "Running", "qosClass": "Burstable", "startTime": T0},
        ),
        # The agent's reason/message replace the stored ones, and go when it drops them.
        (
            {"phase": "Pending", "reason": "X", "message": "m"},
            {"phase": "Running"},
            {"phase": "Running"},
        ),
        ({}, {"phase": "Pending"}, {"phase": "Pending"}),
        (None, {"phase": "Pending"}, {"phase": "Pending"}),
    ],
)
def test_merge_status(stored, reported, written):
    assert merge_status(stored, reported) == written


def test_conditions_keep_their_transition_time_and_others_conditions_stay():
    stored = [
        cond("PodScheduled"),
        cond("Ready", "False"),
        cond("DisruptionTarget", reason="DeletionByTaintManager"),
    ]
    reported = [cond("PodScheduled", at=T1), cond("Ready", "True", at=T1)]
    assert merge_conditions(stored, reported) == [
        cond("PodScheduled"),
        cond("Ready", "True", at=T1),
        cond("DisruptionTarget", reason="DeletionByTaintManager"),
    ]


def test_a_status_with_the_condition_times_of_the_store_is_no_change():
    stored = {"phase": "Running", "conditions": [cond("Ready")]}
    assert merge_status(stored, {"phase": "Running", "conditions": [cond("Ready", at=T1)]}) is None


def pod(**meta):
    return {
        "metadata": {"name": "p", "resourceVersion": "1", **meta},
        "spec": {"nodeName": "n"},
        "status": {"phase": "Running"},
    }


def ended(**meta):
    return {**pod(**meta), "status": {"phase": "Succeeded"}}


@pytest.mark.parametrize(
    "old, new, matters",
    [
        (None, pod(), True),
        (pod(), None, True),
        (pod(), {**pod(resourceVersion="2"), "status": {"phase": "Failed"}}, False),
        (pod(), pod(resourceVersion="2", managedFields=[{"manager": "x"}]), False),
        (pod(), pod(deletionTimestamp=T0), True),
        (pod(), pod(labels={"a": "b"}), True),
        # An ended pod's finalizer released: the agent that ran it has nothing to learn.
        (ended(finalizers=["f"]), ended(resourceVersion="2"), False),
        (ended(finalizers=["f"]), ended(deletionTimestamp=T0, finalizers=["f"]), True),
        (ended(), {**pod(resourceVersion="2"), "status": {"phase": "Failed"}}, False),
    ],
)
def test_only_changes_an_agent_needs_wake_its_node(old, new, matters):
    assert matters_to_agent(old, new) is matters


@pytest.mark.parametrize(
    "meta, phase, expected",
    [
        ({"deletionTimestamp": T0, "deletionGracePeriodSeconds": 30}, "Failed", True),
        ({"deletionTimestamp": T0, "deletionGracePeriodSeconds": 30}, "Running", False),
        ({"deletionTimestamp": T0, "deletionGracePeriodSeconds": 0}, "Succeeded", False),
        ({}, "Succeeded", False),
    ],
)
def test_a_finished_pod_being_deleted_is_finishing(meta, phase, expected):
    assert finishing({"metadata": meta, "status": {"phase": phase}}) is expected


def with_container(state, phase="Failed"):
    return {"phase": phase, "containerStatuses": [{"name": "c", "state": state}]}


@pytest.mark.parametrize(
    "status, lost",
    [
        (
            with_container({"terminated": {"exitCode": 137, "reason": "ContainerStatusUnknown"}}),
            True,
        ),
        (with_container({"terminated": {"exitCode": 137, "reason": "Error"}}), False),
        (with_container({"terminated": {"reason": "ContainerStatusUnknown"}}, "Running"), False),
        ({"phase": "Failed", "reason": "OutOfcpu"}, False),
    ],
)
def test_containers_lost(status, lost):
    assert containers_lost(status) is lost
