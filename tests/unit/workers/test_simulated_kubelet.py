"""What the simulated kubelet writes: a Ready node, and pods Running at once."""

from __future__ import annotations

from berth.platform.version import KUBERNETES_VERSION
from berth.workers.control.simulated import is_simulated, node_status, running_status

NOW = "2026-11-25T12:00:00Z"


def a_node(labels=None, status=None) -> dict:
    return {"metadata": {"name": "n", "labels": labels or {}}, "status": status or {}}


def a_pod(init: bool = False) -> dict:
    spec = {
        "restartPolicy": "Never",
        "nodeName": "n",
        "containers": [{"name": "a", "image": "busybox"}, {"name": "b", "image": "x"}],
    }
    if init:
        spec["initContainers"] = [{"name": "setup", "image": "busybox"}]
    return {
        "metadata": {"name": "p", "uid": "u1"},
        "spec": spec,
        "status": {
            "phase": "Pending",
            "qosClass": "BestEffort",
            "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": "T0"}],
        },
    }


def test_only_the_label_with_value_true_makes_a_node_simulated():
    assert is_simulated(a_node({"berth.dev/simulated": "true"}))
    assert not is_simulated(a_node({"berth.dev/simulated": "false"}))
    assert not is_simulated(a_node())
    assert not is_simulated(None)


def test_a_node_without_ready_gets_ready_true_and_node_info():
    status = node_status(a_node(status={"capacity": {"cpu": "4"}}), NOW)
    assert status is not None
    [ready] = status["conditions"]
    assert (ready["type"], ready["status"], ready["reason"]) == ("Ready", "True", "KubeletReady")
    assert status["capacity"] == {"cpu": "4"}
    assert status["nodeInfo"]["kubeletVersion"] == KUBERNETES_VERSION


def test_a_node_with_a_ready_condition_and_node_info_is_left_alone():
    node = a_node(
        status={
            "conditions": [{"type": "Ready", "status": "False"}],
            "nodeInfo": {"kubeletVersion": "v1"},
        }
    )
    assert node_status(node, NOW) is None


def test_running_status_has_every_container_running_and_ready():
    status = running_status(a_pod(init=True), a_node(), NOW)
    assert status["phase"] == "Running"
    assert status["qosClass"] == "BestEffort"
    conditions = {c["type"]: c for c in status["conditions"]}
    for kind in ("Initialized", "ContainersReady", "Ready", "PodScheduled"):
        assert conditions[kind]["status"] == "True", kind
    assert conditions["PodScheduled"]["lastTransitionTime"] == "T0"
    assert [
        (c["name"], c["ready"], c["started"], c["state"]["running"]["startedAt"])
        for c in status["containerStatuses"]
    ] == [("a", True, True, NOW), ("b", True, True, NOW)]
    [init] = status["initContainerStatuses"]
    assert init["state"]["terminated"]["exitCode"] == 0
    assert "hostIP" not in status and "podIP" not in status


def test_pods_take_the_node_address_when_it_has_one():
    node = a_node(status={"addresses": [{"type": "InternalIP", "address": "10.1.2.3"}]})
    status = running_status(a_pod(), node, NOW)
    assert status["hostIP"] == status["podIP"] == "10.1.2.3"
