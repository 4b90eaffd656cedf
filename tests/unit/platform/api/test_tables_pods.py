"""The pod table's Ready, Status and Restarts columns follow printPod."""

from datetime import UTC, datetime

import pytest

from berth.platform.api.tables import to_table
from berth.platform.resources import registry

NOW = datetime(2026, 11, 25, 19, 26, 44, tzinfo=UTC)


def a_pod(
    phase="Running",
    *,
    statuses=(),
    init=(),
    init_statuses=(),
    conditions=(),
    deleting=False,
    reason=None,
    **spec,
):
    pod = {
        "metadata": {"name": "p", "creationTimestamp": "2026-11-25T19:25:44Z"},
        "spec": {
            "containers": [{"name": s.get("name", f"c{i}")} for i, s in enumerate(statuses)]
            or [{"name": "c"}],
            "initContainers": list(init),
            **spec,
        },
        "status": {
            "phase": phase,
            "containerStatuses": list(statuses),
            "initContainerStatuses": list(init_statuses),
            "conditions": [
                {"type": t, "status": s, **({"reason": r} if r else {})} for t, s, r in conditions
            ],
        },
    }
    if deleting:
        pod["metadata"]["deletionTimestamp"] = "2026-11-25T19:26:40Z"
    if reason:
        pod["status"]["reason"] = reason
    return pod


def running(ready=True, restarts=0, last_finished=None, **extra):
    cs = {
        "name": extra.pop("name", "c"),
        "ready": ready,
        "restartCount": restarts,
        "state": {"running": {"startedAt": "2026-11-25T19:25:50Z"}},
        **extra,
    }
    if last_finished:
        cs["lastState"] = {"terminated": {"exitCode": 1, "finishedAt": last_finished}}
    return cs


def waiting(reason, **extra):
    return {
        "name": extra.pop("name", "c"),
        "ready": False,
        "restartCount": 0,
        "state": {"waiting": {"reason": reason}},
        **extra,
    }


def terminated(exit_code=0, reason=None, signal=None, **extra):
    term = {"exitCode": exit_code}
    if reason:
        term["reason"] = reason
    if signal:
        term["signal"] = signal
    return {
        "name": extra.pop("name", "c"),
        "ready": False,
        "restartCount": 0,
        "state": {"terminated": term},
        **extra,
    }


def row(pod):
    return to_table(registry.POD, [pod], now=NOW, resource_version="1")["rows"][0]


@pytest.mark.parametrize(
    "pod, ready, status",
    [
        (a_pod("Pending", statuses=()), "0/1", "Pending"),
        (a_pod(statuses=[running()]), "1/1", "Running"),
        (a_pod(statuses=[running(ready=False)]), "0/1", "Running"),
        (a_pod("Pending", statuses=[waiting("ContainerCreating")]), "0/1", "ContainerCreating"),
        (a_pod(statuses=[waiting("CrashLoopBackOff")]), "0/1", "CrashLoopBackOff"),
        (a_pod("Succeeded", statuses=[terminated(0, "Completed")]), "0/1", "Completed"),
        (a_pod("Failed", statuses=[terminated(1, "Error")]), "0/1", "Error"),
        (a_pod("Failed", statuses=[terminated(137, "OOMKilled")]), "0/1", "OOMKilled"),
        (a_pod("Failed", statuses=[terminated(2)]), "0/1", "ExitCode:2"),
        (a_pod("Failed", statuses=[terminated(0, signal=9)]), "0/1", "Signal:9"),
        (a_pod(statuses=[running()], deleting=True), "1/1", "Terminating"),
        (
            a_pod("Succeeded", statuses=[terminated(0, "Completed")], deleting=True),
            "0/1",
            "Completed",
        ),
        (a_pod(statuses=[running()], deleting=True, reason="NodeLost"), "1/1", "Unknown"),
        (a_pod("Failed", reason="Evicted"), "0/1", "Evicted"),
        (
            a_pod("Pending", conditions=[("PodScheduled", "False", "SchedulingGated")]),
            "0/1",
            "SchedulingGated",
        ),
        (
            a_pod(
                statuses=[running(name="a"), terminated(0, "Completed", name="b")],
                conditions=[("Ready", "True", None)],
            ),
            "1/2",
            "Running",
        ),
        (
            a_pod(statuses=[running(name="a"), terminated(0, "Completed", name="b")]),
            "1/2",
            "NotReady",
        ),
    ],
)
def test_ready_and_status(pod, ready, status):
    assert row(pod)["cells"][1:3] == [ready, status]


@pytest.mark.parametrize(
    "init_statuses, status",
    [
        ([waiting("PodInitializing", name="i")], "Init:0/1"),
        ([waiting("ImagePullBackOff", name="i")], "Init:ImagePullBackOff"),
        ([terminated(1, "Error", name="i")], "Init:Error"),
        ([terminated(3, name="i")], "Init:ExitCode:3"),
        ([terminated(143, signal=15, name="i")], "Init:Signal:15"),
    ],
)
def test_init_container_status(init_statuses, status):
    pod = a_pod(
        "Pending",
        statuses=[waiting("PodInitializing")],
        init=[{"name": "i"}],
        init_statuses=init_statuses,
    )
    assert row(pod)["cells"][2] == status


def test_finished_init_containers_hand_over_to_the_app_containers():
    pod = a_pod(
        statuses=[running()],
        init=[{"name": "i"}],
        init_statuses=[terminated(0, "Completed", name="i")],
    )
    assert row(pod)["cells"][1:3] == ["1/1", "Running"]


def test_a_started_sidecar_counts_towards_ready():
    pod = a_pod(
        statuses=[running()],
        init=[{"name": "side", "restartPolicy": "Always"}],
        init_statuses=[
            running(name="side", started=True, restarts=1, last_finished="2026-11-25T19:26:39Z")
        ],
        conditions=[("Initialized", "True", None)],
    )
    assert row(pod)["cells"][1:4] == ["2/2", "Running", "1 (5s ago)"]


@pytest.mark.parametrize(
    "statuses, restarts",
    [
        ([running()], "0"),
        ([running(restarts=2, last_finished="2026-11-25T19:26:39Z")], "2 (5s ago)"),
        ([running(restarts=2)], "2"),
        (
            [
                running(name="a", restarts=1, last_finished="2026-11-25T19:20:00Z"),
                running(name="b", restarts=3, last_finished="2026-11-25T19:24:41Z"),
            ],
            "4 (2m3s ago)",
        ),
    ],
)
def test_restarts(statuses, restarts):
    assert row(a_pod(statuses=statuses))["cells"][3] == restarts


def test_wide_cells():
    pod = a_pod(
        statuses=[running()],
        nodeName="node-1",
        readinessGates=[{"conditionType": "x/ok"}, {"conditionType": "x/two"}],
        conditions=[("x/ok", "True", None), ("x/two", "False", None)],
    )
    pod["status"]["podIPs"] = [{"ip": "10.0.0.7"}]
    assert row(pod)["cells"][4:] == ["60s", "10.0.0.7", "node-1", "<none>", "1/2"]
    bare = a_pod("Pending")
    assert row(bare)["cells"][5:] == ["<none>", "<none>", "<none>", "<none>"]


@pytest.mark.parametrize(
    "phase, conditions",
    [
        ("Running", None),
        (
            "Succeeded",
            [
                {
                    "type": "Completed",
                    "status": "True",
                    "reason": "Succeeded",
                    "message": "The pod has completed successfully.",
                }
            ],
        ),
        (
            "Failed",
            [
                {
                    "type": "Completed",
                    "status": "True",
                    "reason": "Failed",
                    "message": "The pod failed.",
                }
            ],
        ),
    ],
)
def test_row_conditions_mark_finished_pods(phase, conditions):
    assert row(a_pod(phase)).get("conditions") == conditions


def test_pod_columns():
    columns = to_table(registry.POD, [], now=NOW, resource_version="1")["columnDefinitions"]
    assert [(c["name"], c["priority"]) for c in columns] == [
        ("Name", 0),
        ("Ready", 0),
        ("Status", 0),
        ("Restarts", 0),
        ("Age", 0),
        ("IP", 1),
        ("Node", 1),
        ("Nominated Node", 1),
        ("Readiness Gates", 1),
    ]
