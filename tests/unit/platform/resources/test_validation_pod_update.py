"""What may change in a Pod after it is created, and in its status."""

import copy

import pytest

from berth.platform.resources import registry, strategy


def a_pod(**spec):
    body = {
        "restartPolicy": "Never",
        "activeDeadlineSeconds": 600,
        "containers": [{"name": "main", "image": "busybox:1.36"}],
        "tolerations": [
            {"key": "gpu", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60}
        ],
    }
    body.update(spec)
    pod = {"metadata": {"name": "p", "namespace": "default", "uid": "u"}, "spec": body}
    strategy.prepare_for_create(registry.POD, pod)
    return pod


def update(mutate, old=None):
    old = old or a_pod()
    new = copy.deepcopy(old)
    mutate(new)
    strategy.prepare_for_update(registry.POD, new, old)
    return [(c.field, c.reason) for c in strategy.validate_update(registry.POD, new, old)]


def containers(pod):
    return pod["spec"]["containers"]


@pytest.mark.parametrize(
    "name,mutate",
    [
        ("image", lambda p: containers(p)[0].update(image="busybox:1.37")),
        ("shorter deadline", lambda p: p["spec"].update(activeDeadlineSeconds=300)),
        (
            "added toleration",
            lambda p: p["spec"]["tolerations"].append({"key": "spot", "operator": "Exists"}),
        ),
        ("toleration seconds", lambda p: p["spec"]["tolerations"][0].update(tolerationSeconds=5)),
        ("labels", lambda p: p["metadata"].update(labels={"a": "b"})),
    ],
)
def test_allowed(name, mutate):
    assert update(mutate) == []


@pytest.mark.parametrize(
    "name,mutate,field",
    [
        ("command", lambda p: containers(p)[0].update(command=["sh"]), "spec"),
        ("node name", lambda p: p["spec"].update(nodeName="n1"), "spec"),
        ("restart policy", lambda p: p["spec"].update(restartPolicy="OnFailure"), "spec"),
        (
            "added container",
            lambda p: containers(p).append({"name": "b", "image": "i"}),
            "spec.containers",
        ),
        (
            "longer deadline",
            lambda p: p["spec"].update(activeDeadlineSeconds=900),
            "spec.activeDeadlineSeconds",
        ),
        (
            "removed deadline",
            lambda p: p["spec"].pop("activeDeadlineSeconds"),
            "spec.activeDeadlineSeconds",
        ),
        ("removed toleration", lambda p: p["spec"].update(tolerations=[]), "spec.tolerations"),
        ("emptied image", lambda p: containers(p)[0].update(image=""), "spec.containers[0].image"),
    ],
)
def test_forbidden(name, mutate, field):
    assert field in [f for f, _ in update(mutate)]


def test_forbidden_message_names_what_may_change():
    old = a_pod()
    new = copy.deepcopy(old)
    new["spec"]["nodeName"] = "n1"
    message = strategy.validate_update(registry.POD, new, old)[0].message
    assert message.startswith(
        "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
    )
    assert "spec.nodeName: None -> 'n1'" in message


def test_gated_pod_may_gain_a_node_selector():
    old = a_pod(schedulingGates=[{"name": "example.com/wait"}])
    assert update(lambda p: p["spec"].update(nodeSelector={"gpu": "nvidia"}), old) == []
    assert update(lambda p: p["spec"].update(schedulingGates=[]), old) == []
    assert update(lambda p: p["spec"]["schedulingGates"].append({"name": "x.io/more"}), old) == [
        ("spec.schedulingGates[1].name", "FieldValueForbidden")
    ]


def status_update(old_status, new_status, restart="Never"):
    old = a_pod(restartPolicy=restart)
    old["status"] = copy.deepcopy(old_status)
    new = copy.deepcopy(old)
    new["status"] = new_status
    strategy.prepare_for_update(registry.POD, new, old)
    return [(c.field, c.reason) for c in strategy.validate_status_update(registry.POD, new, old)]


def state(**kind):
    return [{"name": "main", "state": kind}]


@pytest.mark.parametrize(
    "restart,exit_code,allowed",
    [
        ("Never", 0, False),
        ("Never", 1, False),
        ("OnFailure", 0, False),
        ("OnFailure", 1, True),
        ("Always", 0, True),
    ],
)
def test_terminated_containers_stay_terminated(restart, exit_code, allowed):
    old = {
        "phase": "Running",
        "qosClass": "BestEffort",
        "containerStatuses": state(terminated={"exitCode": exit_code}),
    }
    new = {
        "phase": "Running",
        "qosClass": "BestEffort",
        "containerStatuses": state(running={"startedAt": "2026-01-01T00:00:00Z"}),
    }
    found = status_update(old, new, restart)
    assert (found == []) is allowed
    if not allowed:
        assert found == [("status.containerStatuses[0].state", "FieldValueForbidden")]


def test_qos_class_is_fixed_but_backfilled():
    assert status_update({"phase": "Pending", "qosClass": "BestEffort"}, {"phase": "Running"}) == []
    assert status_update(
        {"phase": "Pending", "qosClass": "BestEffort"},
        {"phase": "Running", "qosClass": "Guaranteed"},
    ) == [("status.qosClass", "FieldValueInvalid")]


def test_pod_condition_types():
    found = status_update(
        {"qosClass": "BestEffort"},
        {
            "qosClass": "BestEffort",
            "conditions": [
                {"type": "Ready", "status": "True"},
                {"type": "bad type", "status": "True"},
            ],
        },
    )
    assert found == [("metadata.conditions[1].Type", "FieldValueInvalid")]
