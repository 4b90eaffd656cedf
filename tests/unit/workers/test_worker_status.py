"""Pod phase, conditions and container statuses as the kubelet computes them."""

import pytest

from berth.workers.status import (
    ContainerState,
    PodView,
    container_status,
    pod_conditions,
    pod_phase,
    pod_status,
    qos_class,
)

NOW = "2026-01-01T00:00:00Z"


def waiting(name="c", reason="ContainerCreating"):
    return ContainerState(name, state="waiting", reason=reason)


def running(name="c"):
    cs = ContainerState(name)
    cs.set_running(NOW, "berth://1")
    return cs


def done(name="c", code=0):
    cs = running(name)
    cs.set_terminated(code, "Completed" if code == 0 else "Error", None, NOW)
    return cs


def backoff(name="c", code=1):
    cs = done(name, code)
    cs.retire()
    cs.set_waiting("CrashLoopBackOff", "back-off 10s")
    return cs


@pytest.mark.parametrize(
    "policy, init, regular, terminal, phase",
    [
        ("Never", [], [waiting()], False, "Pending"),
        ("Never", [], [running()], False, "Running"),
        ("Never", [], [done(code=0)], False, "Succeeded"),
        ("Never", [], [done(code=1)], False, "Failed"),
        ("Never", [], [done("a", 0), running("b")], False, "Running"),
        ("Never", [], [done("a", 0), done("b", 2)], False, "Failed"),
        ("OnFailure", [], [done(code=1)], False, "Running"),
        ("OnFailure", [], [backoff()], False, "Running"),
        ("OnFailure", [], [done(code=0)], False, "Succeeded"),
        ("Always", [], [done(code=0)], False, "Running"),
        ("Always", [], [done(code=0)], True, "Succeeded"),
        ("Always", [], [done(code=143)], True, "Failed"),
        ("Never", [running("i")], [waiting(reason="PodInitializing")], False, "Pending"),
        ("Never", [done("i", 1)], [waiting(reason="PodInitializing")], False, "Failed"),
        ("OnFailure", [backoff("i")], [waiting(reason="PodInitializing")], False, "Pending"),
        ("Never", [done("i", 0)], [running()], False, "Running"),
    ],
)
def test_phase(policy, init, regular, terminal, phase):
    assert pod_phase(policy, init, regular, terminal) == phase


def test_container_status_shapes():
    assert container_status(waiting()) == {
        "name": "c",
        "state": {"waiting": {"reason": "ContainerCreating"}},
        "lastState": {},
        "ready": False,
        "restartCount": 0,
        "image": "",
        "imageID": "",
        "started": False,
    }
    st = container_status(running())
    assert st["state"] == {"running": {"startedAt": NOW}} and st["ready"] and st["started"]
    assert st["containerID"] == "berth://1"
    st = container_status(backoff())
    assert st["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert st["lastState"]["terminated"]["exitCode"] == 1
    assert st["lastState"]["terminated"]["reason"] == "Error"


def test_conditions_of_a_running_pod():
    conds = pod_conditions("Running", [done("i")], [running()], True, [], NOW)
    assert [(c["type"], c["status"]) for c in conds] == [
        ("PodReadyToStartContainers", "True"),
        ("Initialized", "True"),
        ("Ready", "True"),
        ("ContainersReady", "True"),
        ("PodScheduled", "True"),
    ]


def test_conditions_name_what_is_missing():
    conds = {
        c["type"]: c
        for c in pod_conditions(
            "Pending", [running("i1"), waiting("i2")], [waiting("a"), waiting("b")], True, [], NOW
        )
    }
    assert conds["Initialized"]["reason"] == "ContainersNotInitialized"
    assert conds["Initialized"]["message"] == "containers with incomplete status: [i1 i2]"
    assert conds["Ready"]["message"] == "containers with unready status: [a b]"


def test_succeeded_pods_are_not_ready_because_completed():
    conds = {c["type"]: c for c in pod_conditions("Succeeded", [], [done()], True, [], NOW)}
    assert conds["Ready"]["status"] == "False" and conds["Ready"]["reason"] == "PodCompleted"
    assert "message" not in conds["Ready"]


def test_transition_time_kept_while_status_unchanged():
    first = pod_conditions("Pending", [], [waiting()], False, [], "T1")
    second = pod_conditions("Running", [], [running()], True, first, "T2")
    times = {c["type"]: c["lastTransitionTime"] for c in second}
    assert times == {
        "PodReadyToStartContainers": "T2",
        "Initialized": "T1",
        "Ready": "T2",
        "ContainersReady": "T2",
        "PodScheduled": "T1",
    }


def test_node_failure_reason_fails_the_pod():
    view = PodView(
        "Always",
        "127.0.0.1",
        reason="DeadlineExceeded",
        message="Pod was active on the node longer than the specified deadline",
    )
    st = pod_status(view, [], [running()], NOW)
    assert st["phase"] == "Failed" and st["reason"] == "DeadlineExceeded"
    assert st["podIP"] == "127.0.0.1" and "initContainerStatuses" not in st


@pytest.mark.parametrize(
    "resources, qos",
    [
        ({}, "BestEffort"),
        ({"requests": {"cpu": "1"}}, "Burstable"),
        ({"limits": {"cpu": "1", "memory": "1Gi"}}, "Guaranteed"),
        (
            {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "1Gi"}},
            "Burstable",
        ),
    ],
)
def test_qos_class(resources, qos):
    assert qos_class({"spec": {"containers": [{"name": "c", "resources": resources}]}}) == qos
