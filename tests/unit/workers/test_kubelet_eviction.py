"""The taint manager's and pod GC's policies: who is evicted when, and the status they get."""

from datetime import UTC, datetime, timedelta

import pytest

from berth.workers.control.eviction import eviction_time, failed_disrupted, with_condition

NOW = datetime(2026, 1, 1, 0, 1, 0, tzinfo=UTC)
ADDED = "2026-01-01T00:00:50Z"
UNREACHABLE = {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": ADDED}


def pod_with(*tolerations):
    return {"spec": {"tolerations": list(tolerations)}}


def tol(seconds=None, key="node.kubernetes.io/unreachable"):
    out = {"key": key, "operator": "Exists", "effect": "NoExecute"}
    if seconds is not None:
        out["tolerationSeconds"] = seconds
    return out


@pytest.mark.parametrize(
    "pod, taints, expected",
    [
        (pod_with(), [UNREACHABLE], NOW),  # untolerated: now
        (pod_with(tol()), [UNREACHABLE], None),  # tolerated forever
        (
            pod_with(tol(30)),
            [UNREACHABLE],
            datetime(2026, 1, 1, 0, 1, 20, tzinfo=UTC),
        ),  # 30 s after added
        (
            pod_with(tol(30), tol(5, key="")),
            [UNREACHABLE],
            datetime(2026, 1, 1, 0, 0, 55, tzinfo=UTC),
        ),  # the smallest limit
        (pod_with(tol(-3)), [UNREACHABLE], datetime(2026, 1, 1, 0, 0, 50, tzinfo=UTC)),
        (
            pod_with(tol(30)),
            [{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}],
            NOW + timedelta(seconds=30),
        ),  # no timeAdded: now
        (pod_with(), [{"key": "x", "effect": "NoSchedule"}], None),  # not NoExecute
        (pod_with(tol()), [UNREACHABLE, {"key": "other", "effect": "NoExecute"}], NOW),
    ],
)
def test_eviction_time(pod, taints, expected):
    assert eviction_time(pod, taints, NOW) == expected


def test_a_running_pod_on_a_lost_node_fails_with_its_containers_unknown():
    running = {
        "spec": {"containers": [{"name": "c", "image": "i"}]},
        "status": {
            "phase": "Running",
            "hostIP": "10.0.0.1",
            "qosClass": "Burstable",
            "startTime": ADDED,
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": ADDED}],
            "containerStatuses": [
                {
                    "name": "c",
                    "ready": True,
                    "started": True,
                    "state": {"running": {"startedAt": ADDED}},
                }
            ],
        },
    }
    status = failed_disrupted(running, "DeletionByTaintManager", "gone", "T")
    assert (status["phase"], status["qosClass"], status["startTime"]) == (
        "Failed",
        "Burstable",
        ADDED,
    )
    ended = status["containerStatuses"][0]["state"]["terminated"]
    assert (ended["exitCode"], ended["reason"]) == (137, "ContainerStatusUnknown")
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["Ready"]["status"] == "False"
    assert conditions["DisruptionTarget"] == {
        "type": "DisruptionTarget",
        "status": "True",
        "reason": "DeletionByTaintManager",
        "message": "gone",
        "lastProbeTime": None,
        "lastTransitionTime": "T",
    }


def test_a_pod_that_never_ran_fails_without_addresses():
    pending = {
        "spec": {"containers": [{"name": "c", "image": "i"}]},
        "status": {"phase": "Pending", "qosClass": "BestEffort"},
    }
    status = failed_disrupted(pending, "DeletionByPodGC", "PodGC: node no longer exists", "T")
    assert status["phase"] == "Failed" and "hostIP" not in status
    assert status["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 137
    assert status["conditions"][-1]["reason"] == "DeletionByPodGC"


def test_with_condition_keeps_the_transition_time_of_an_unchanged_condition():
    status = {"conditions": [{"type": "X", "status": "True", "lastTransitionTime": "old"}]}
    again = with_condition(status, {"type": "X", "status": "True", "lastTransitionTime": "new"})
    assert again["conditions"] == status["conditions"]
