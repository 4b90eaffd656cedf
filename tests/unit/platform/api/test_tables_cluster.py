"""Node, Namespace, ConfigMap, Secret, Event and Lease tables."""

from datetime import UTC, datetime

import pytest

from berth.platform.api.tables import to_table
from berth.platform.resources import registry

NOW = datetime(2026, 11, 25, 19, 26, 44, tzinfo=UTC)
CREATED = "2026-11-25T19:25:44Z"


def cells(rt, obj):
    obj.setdefault("metadata", {}).setdefault("creationTimestamp", CREATED)
    return to_table(rt, [obj], now=NOW, resource_version="1")["rows"][0]["cells"]


def names(rt, priority=None):
    cols = to_table(rt, [], now=NOW, resource_version="1")["columnDefinitions"]
    return [c["name"] for c in cols if priority is None or c["priority"] == priority]


def a_node(ready="True", unschedulable=False, labels=None, conditions=True):
    node = {
        "metadata": {"name": "n1", "labels": labels or {}},
        "spec": {"unschedulable": unschedulable},
        "status": {
            "conditions": [{"type": "MemoryPressure", "status": "False"}]
            + ([{"type": "Ready", "status": ready}] if conditions else []),
            "addresses": [
                {"type": "Hostname", "address": "n1"},
                {"type": "InternalIP", "address": "10.0.0.2"},
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.32.4-berth",
                "osImage": "Debian 12",
                "kernelVersion": "6.1",
                "containerRuntimeVersion": "ray://2.60",
            },
        },
    }
    return node


@pytest.mark.parametrize(
    "node, status",
    [
        (a_node(), "Ready"),
        (a_node("False"), "NotReady"),
        (a_node("Unknown"), "NotReady"),
        (a_node(unschedulable=True), "Ready,SchedulingDisabled"),
        (a_node(conditions=False), "Unknown"),
    ],
)
def test_node_status(node, status):
    assert cells(registry.NODE, node)[1] == status


@pytest.mark.parametrize(
    "labels, roles",
    [
        ({}, "<none>"),
        (
            {"node-role.kubernetes.io/worker": "", "node-role.kubernetes.io/control-plane": ""},
            "control-plane,worker",
        ),
        ({"kubernetes.io/role": "gpu", "node-role.kubernetes.io/": ""}, "gpu"),
    ],
)
def test_node_roles(labels, roles):
    assert cells(registry.NODE, a_node(labels=labels))[2] == roles


def test_node_row_and_wide_columns():
    assert cells(registry.NODE, a_node()) == [
        "n1",
        "Ready",
        "<none>",
        "60s",
        "v1.32.4-berth",
        "10.0.0.2",
        "<none>",
        "Debian 12",
        "6.1",
        "ray://2.60",
    ]
    assert names(registry.NODE, 1) == [
        "Internal-IP",
        "External-IP",
        "OS-Image",
        "Kernel-Version",
        "Container-Runtime",
    ]


def test_namespace_configmap_secret_lease():
    assert cells(
        registry.NAMESPACE, {"metadata": {"name": "team-a"}, "status": {"phase": "Active"}}
    ) == ["team-a", "Active", "60s"]
    assert cells(
        registry.CONFIG_MAP,
        {"metadata": {"name": "cm"}, "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}},
    ) == ["cm", 3, "60s"]
    assert cells(registry.CONFIG_MAP, {"metadata": {"name": "empty"}}) == ["empty", 0, "60s"]
    assert cells(
        registry.SECRET, {"metadata": {"name": "s"}, "type": "Opaque", "data": {"p": "cw=="}}
    ) == ["s", "Opaque", 1, "60s"]
    assert cells(
        registry.LEASE,
        {"metadata": {"name": "berth-controller"}, "spec": {"holderIdentity": "api-0"}},
    ) == ["berth-controller", "api-0", "60s"]
    assert names(registry.SECRET) == ["Name", "Type", "Data", "Age"]


def an_event(**fields):
    event = {
        "metadata": {"name": "pi.1"},
        "type": "Normal",
        "reason": "SuccessfulCreate",
        "involvedObject": {"kind": "Job", "name": "pi", "namespace": "default"},
        "message": "Created pod: pi-abcde\n",
        "source": {"component": "job-controller"},
        "firstTimestamp": "2026-11-25T19:20:00Z",
        "lastTimestamp": "2026-11-25T19:26:00Z",
        "count": 3,
    }
    event.update(fields)
    return event


def test_event_row_in_column_order():
    assert names(registry.EVENT, 0) == ["Last Seen", "Type", "Reason", "Object", "Message"]
    assert cells(registry.EVENT, an_event()) == [
        "44s",
        "Normal",
        "SuccessfulCreate",
        "job/pi",
        "",
        "job-controller",
        "Created pod: pi-abcde",
        "6m44s",
        3,
        "pi.1",
    ]


@pytest.mark.parametrize(
    "fields, last, first, count",
    [
        ({"lastTimestamp": None}, "6m44s", "6m44s", 3),
        (
            {
                "firstTimestamp": None,
                "lastTimestamp": None,
                "eventTime": "2026-11-25T19:26:34Z",
                "count": None,
            },
            "10s",
            "10s",
            1,
        ),
        ({"series": {"count": 7, "lastObservedTime": "2026-11-25T19:26:43Z"}}, "1s", "6m44s", 7),
    ],
)
def test_event_times_and_count(fields, last, first, count):
    row = cells(registry.EVENT, an_event(**fields))
    assert (row[0], row[7], row[8]) == (last, first, count)


def test_event_source_and_object_without_name():
    row = cells(
        registry.EVENT,
        an_event(
            source={},
            reportingComponent="berth-scheduler",
            reportingInstance="api-0",
            involvedObject={"kind": "Node"},
        ),
    )
    assert (row[3], row[5]) == ("node", "berth-scheduler, api-0")
