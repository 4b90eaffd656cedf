"""Namespaces, Nodes, Events and Leases."""

import copy

import pytest

from berth.platform.resources import registry, strategy


def causes(rt, obj):
    obj = copy.deepcopy(obj)
    strategy.prepare_for_create(rt, obj)
    return [(c.field, c.reason) for c in strategy.validate_create(rt, obj)]


def update_causes(rt, old, mutate, status=False):
    old = copy.deepcopy(old)
    strategy.prepare_for_create(rt, old)
    new = copy.deepcopy(old)
    mutate(new)
    strategy.prepare_for_update(rt, new, old)
    check = strategy.validate_status_update if status else strategy.validate_update
    return [(c.field, c.reason) for c in check(rt, new, old)]


# -- Namespace ---------------------------------------------------------------------------------
def test_namespace_create():
    ns = {"metadata": {"name": "prod", "labels": {"app": "MyBigWebApp"}}}
    strategy.prepare_for_create(registry.NAMESPACE, ns)
    assert ns["metadata"]["labels"] == {"app": "MyBigWebApp", "kubernetes.io/metadata.name": "prod"}
    assert ns["spec"] == {"finalizers": ["kubernetes"]}
    assert ns["status"] == {"phase": "Active"}
    assert strategy.validate_create(registry.NAMESPACE, ns) == []


@pytest.mark.parametrize(
    "ns,field,message_start",
    [
        (
            {"metadata": {"name": "my.team"}},
            "metadata.name",
            'Invalid value: "my.team": must not contain dots',
        ),
        ({"metadata": {"name": "a" * 64}}, "metadata.name", 'Invalid value: "aaaa'),
        (
            {"metadata": {"name": "ok"}, "spec": {"finalizers": ["custom"]}},
            "spec.finalizers",
            'Invalid value: "custom": name is neither a standard finalizer name nor is it fully '
            "qualified",
        ),
    ],
)
def test_namespace_rules(ns, field, message_start):
    strategy.prepare_for_create(registry.NAMESPACE, ns)
    found = strategy.validate_create(registry.NAMESPACE, ns)
    assert any(c.field == field and c.message.startswith(message_start) for c in found), found


def test_namespace_status_phase():
    ns = {"metadata": {"name": "team"}}
    assert update_causes(
        registry.NAMESPACE, ns, lambda n: n["status"].update(phase="Terminating"), status=True
    ) == [("status.Phase", "FieldValueInvalid")]


def test_namespace_label_follows_the_name_on_update():
    ns = {"metadata": {"name": "team"}}
    assert update_causes(registry.NAMESPACE, ns, lambda n: n["metadata"].update(labels={})) == []


# -- Node --------------------------------------------------------------------------------------
def a_node(**spec):
    return {
        "metadata": {"name": "ray-node-1", "labels": {"gpu": "nvidia"}},
        "spec": spec,
        "status": {"capacity": {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "2"}},
    }


@pytest.mark.parametrize(
    "node,field,reason",
    [
        (
            a_node(taints=[{"key": "gpu", "effect": "NoRun"}]),
            "metadata.taints[0].effect",
            "FieldValueNotSupported",
        ),
        (a_node(taints=[{"key": "gpu"}]), "metadata.taints[0].effect", "FieldValueRequired"),
        (
            a_node(taints=[{"key": "bad key", "effect": "NoSchedule"}]),
            "metadata.taints[0].key",
            "FieldValueInvalid",
        ),
        (
            a_node(taints=[{"key": "gpu", "value": "a b", "effect": "NoSchedule"}]),
            "metadata.taints[0].value",
            "FieldValueInvalid",
        ),
        (
            a_node(
                taints=[
                    {"key": "gpu", "effect": "NoSchedule"},
                    {"key": "gpu", "value": "x", "effect": "NoSchedule"},
                ]
            ),
            "metadata.taints[1]",
            "FieldValueDuplicate",
        ),
        (a_node(unschedulable="yes"), "spec.unschedulable", "FieldValueInvalid"),
        (
            {"metadata": {"name": "n"}, "status": {"capacity": {"cpu": "-1"}}},
            "status.capacity.cpu",
            "FieldValueInvalid",
        ),
    ],
)
def test_node_rules(node, field, reason):
    assert (field, reason) in causes(registry.NODE, node)


def test_node_keeps_its_status_and_gets_allocatable():
    node = a_node(
        taints=[{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}],
        podCIDR="10.0.0.0/24",
    )
    strategy.prepare_for_create(registry.NODE, node)
    assert node["status"]["allocatable"] == node["status"]["capacity"]
    assert strategy.validate_create(registry.NODE, node) == []


def test_node_updates():
    node = a_node(podCIDRs=["10.0.0.0/24"], providerID="ray://n1")
    assert (
        update_causes(
            registry.NODE,
            node,
            lambda n: n["spec"].update(
                unschedulable=True, taints=[{"key": "k", "effect": "NoExecute"}]
            ),
        )
        == []
    )
    assert update_causes(
        registry.NODE, node, lambda n: n["spec"].update(podCIDRs=["10.1.0.0/24"])
    ) == [("spec.podCIDRs", "FieldValueForbidden")]
    assert update_causes(
        registry.NODE, node, lambda n: n["spec"].update(providerID="ray://n2")
    ) == [("spec.providerID", "FieldValueForbidden")]
    assert not strategy.spec_changed(registry.NODE, {"spec": {"unschedulable": True}}, {"spec": {}})


# -- Event -------------------------------------------------------------------------------------
def an_event(**fields):
    base = {
        "metadata": {"name": "pi.17a3f0c2d1e4b5a6", "namespace": "default"},
        "involvedObject": {
            "kind": "Job",
            "name": "pi",
            "namespace": "default",
            "apiVersion": "batch/v1",
            "uid": "u",
        },
        "reason": "SuccessfulCreate",
        "message": "Created pod: pi-x7k2p",
        "type": "Normal",
        "source": {"component": "job-controller"},
        "count": 1,
    }
    base.update(fields)
    return base


@pytest.mark.parametrize(
    "event,field,reason",
    [
        (an_event(involvedObject=None), "involvedObject", "FieldValueRequired"),
        (
            an_event(involvedObject={"kind": "Job", "name": "pi", "namespace": "other"}),
            "involvedObject.namespace",
            "FieldValueInvalid",
        ),
        (
            an_event(eventTime="2026-01-01T00:00:00.000000Z"),
            "reportingComponent",
            "FieldValueRequired",
        ),
        (
            an_event(eventTime="2026-01-01T00:00:00.000000Z", reportingComponent="berth/job"),
            "action",
            "FieldValueRequired",
        ),
        (an_event(message="x" * 1025), "message", "FieldValueInvalid"),
    ],
)
def test_event_rules(event, field, reason):
    assert (field, reason) in causes(registry.EVENT, event)


def test_valid_events():
    assert causes(registry.EVENT, an_event()) == []
    node_event = an_event(involvedObject={"kind": "Node", "name": "n1"})
    assert causes(registry.EVENT, node_event) == []
    assert update_causes(registry.EVENT, an_event(), lambda e: e.update(count=2)) == []


# -- Lease -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "spec,field,reason",
    [
        ({"leaseDurationSeconds": 0}, "spec.leaseDurationSeconds", "FieldValueInvalid"),
        ({"leaseTransitions": -1}, "spec.leaseTransitions", "FieldValueInvalid"),
        ({"strategy": "Newest"}, "spec.strategy", "FieldValueNotSupported"),
        ({"preferredHolder": "a"}, "spec.preferredHolder", "FieldValueForbidden"),
    ],
)
def test_lease_rules(spec, field, reason):
    lease = {"metadata": {"name": "berth-controller", "namespace": "kube-system"}, "spec": spec}
    assert (field, reason) in causes(registry.LEASE, lease)


def test_lease_renewal_is_valid_and_keeps_generation():
    lease = {
        "metadata": {"name": "berth-controller", "namespace": "kube-system"},
        "spec": {
            "holderIdentity": "a",
            "leaseDurationSeconds": 15,
            "renewTime": "2026-01-01T00:00:00.000000Z",
        },
    }
    assert (
        update_causes(
            registry.LEASE,
            lease,
            lambda renewed: renewed["spec"].update(renewTime="2026-01-01T00:00:10.000000Z"),
        )
        == []
    )
    assert not strategy.spec_changed(registry.LEASE, {"spec": {"a": 1}}, {"spec": {"a": 2}})
