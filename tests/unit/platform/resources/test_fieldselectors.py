"""Field selectors: syntax, escapes, the fields each kind allows, and how values compare."""

from __future__ import annotations

import pytest

from berth.platform.errors import BadRequest
from berth.platform.resources import fields

POD = {
    "metadata": {"name": "pi-abc", "namespace": "default"},
    "spec": {
        "nodeName": "node-1",
        "restartPolicy": "Never",
        "schedulerName": "default-scheduler",
        "serviceAccountName": "default",
    },
    "status": {"phase": "Running", "podIP": "10.0.0.1", "podIPs": [{"ip": "10.0.0.2"}]},
}
UNBOUND_POD = {
    "metadata": {"name": "p", "namespace": "default"},
    "spec": {},
    "status": {"phase": "Pending"},
}
EVENT = {
    "metadata": {"name": "pi.1", "namespace": "default"},
    "involvedObject": {
        "kind": "Job",
        "namespace": "default",
        "name": "pi",
        "uid": "u-1",
        "apiVersion": "batch/v1",
    },
    "reason": "SuccessfulCreate",
    "type": "Normal",
    "reportingComponent": "job-controller",
}


@pytest.mark.parametrize(
    "kind, text, obj, expected",
    [
        ("Pod", "", POD, True),
        ("Pod", "metadata.name=pi-abc", POD, True),
        ("Pod", "metadata.name==pi-abc", POD, True),
        ("Pod", "metadata.name!=pi-abc", POD, False),
        ("Pod", "metadata.namespace=default,spec.nodeName=node-1", POD, True),
        ("Pod", "spec.nodeName=", POD, False),
        ("Pod", "spec.nodeName=", UNBOUND_POD, True),  # a missing field is ""
        ("Pod", "spec.nodeName!=", UNBOUND_POD, False),
        ("Pod", "status.phase!=Running", POD, False),
        ("Pod", "status.phase!=Running", UNBOUND_POD, True),
        ("Pod", "spec.hostNetwork=false", POD, True),  # booleans default and print
        ("Pod", "spec.hostNetwork=true", {"spec": {"hostNetwork": True}}, True),
        ("Pod", "status.podIP=10.0.0.2", POD, True),  # the first of podIPs wins
        ("Pod", "status.podIP=10.0.0.9", {"status": {"podIP": "10.0.0.9"}}, True),
        ("Pod", "spec.host=node-1", POD, True),  # the old name of spec.nodeName
        ("Pod", "spec.restartPolicy=Never,spec.schedulerName=default-scheduler", POD, True),
        ("Pod", "spec.serviceAccountName=default", POD, True),
        ("Pod", "status.nominatedNodeName=", POD, True),
        (
            "Event",
            "involvedObject.name=pi,involvedObject.namespace=default,"
            "involvedObject.kind=Job,involvedObject.uid=u-1",
            EVENT,
            True,
        ),
        ("Event", "involvedObject.uid=u-2", EVENT, False),
        ("Event", "reason=SuccessfulCreate,type=Normal", EVENT, True),
        ("Event", "source=job-controller", EVENT, True),  # falls back to reportingComponent
        ("Event", "source=kubelet", {"source": {"component": "kubelet"}}, True),
        ("Event", "reportingComponent=job-controller", EVENT, True),
        ("Event", "involvedObject.apiVersion=batch/v1", EVENT, True),
        ("Job", "status.successful=0", {"status": {}}, True),  # integers default to 0
        ("Job", "status.successful=3", {"status": {"succeeded": 3}}, True),
        ("Node", "spec.unschedulable=false", {"spec": {}}, True),
        ("Node", "spec.unschedulable=true", {"spec": {"unschedulable": True}}, True),
        ("Namespace", "status.phase=Active", {"status": {"phase": "Active"}}, True),
        ("Secret", "type=Opaque", {"type": "Opaque"}, True),
        ("ConfigMap", "metadata.name=a", {"metadata": {"name": "a"}}, True),
        ("ConfigMap", r"metadata.name=a\,b", {"metadata": {"name": "a,b"}}, True),
        ("ConfigMap", r"metadata.name=a\=b\\c", {"metadata": {"name": "a=b\\c"}}, True),
    ],
)
def test_matches(kind, text, obj, expected):
    assert fields.parse(text, kind).matches(obj) is expected


@pytest.mark.parametrize(
    "kind, field",
    [
        ("Pod", "spec.foo"),
        ("Pod", "metadata.labels"),
        ("Job", "status.active"),
        ("Node", "metadata.namespace"),  # cluster-scoped kinds with their own list
        ("Namespace", "metadata.namespace"),
        ("ConfigMap", "data.key"),
        ("Event", "message"),
        ("Pod", "spec.nodeName "),  # no trimming: the space is part of the field
    ],
)
def test_unsupported_fields(kind, field):
    with pytest.raises(BadRequest) as err:
        fields.parse(f"{field}=x", kind)
    assert err.value.message == f"field label not supported: {field}"


@pytest.mark.parametrize(
    "text, message",
    [
        ("metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"),
        ("a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'"),
        (r"metadata.name=a\x", r"invalid field selector: invalid escape sequence: \x"),
        ("metadata.name=a\\", "invalid field selector: invalid escape sequence: \\"),
        ("metadata.name=a=b", "invalid field selector: unescaped character in value: ="),
    ],
)
def test_syntax_errors(text, message):
    with pytest.raises(BadRequest) as err:
        fields.parse(text, "ConfigMap")
    assert err.value.message == message


def test_requirements_and_canonical_form():
    sel = fields.parse("status.phase!=Failed,metadata.name==a\\,b,spec.nodeName=", "Pod")
    # Terms sort as strings, "==" reads as "=".
    assert sel.requirements == (
        ("metadata.name", "=", "a,b"),
        ("spec.nodeName", "=", ""),
        ("status.phase", "!=", "Failed"),
    )
    assert str(sel) == r"metadata.name=a\,b,spec.nodeName=,status.phase!=Failed"
    assert fields.parse(str(sel), "Pod") == sel


def test_empty():
    assert fields.parse("", "Pod").empty
    assert fields.parse(",", "Pod").empty
    assert not fields.parse("metadata.name=a", "Pod").empty


@pytest.mark.parametrize("value", ["plain", "a,b", "a=b", "back\\slash", ",=\\", ""])
def test_escape_round_trip(value):
    assert fields.unescape_value(fields.escape_value(value)) == value
