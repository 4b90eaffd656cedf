"""managedFields: field sets, their fieldsV1 encoding, and ownership on non-apply writes."""

from __future__ import annotations

import copy

import pytest

from berth.platform.resources.patch import fieldpath, update_managed_fields

T0, T1, T2 = "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"


def job(parallelism=1, image="perl", **spec):
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "pi",
            "namespace": "default",
            "uid": "u",
            "resourceVersion": "1",
            "creationTimestamp": T0,
            "generation": 1,
            "labels": {"app": "pi"},
        },
        "spec": {
            "parallelism": parallelism,
            "template": {
                "spec": {
                    "containers": [
                        {"name": "pi", "image": image, "ports": [{"containerPort": 80}]}
                    ],
                    "restartPolicy": "Never",
                }
            },
            **spec,
        },
        "status": {"active": 1},
    }


CREATE_FIELDS = {
    "f:metadata": {"f:labels": {"f:app": {}}},
    "f:spec": {
        "f:parallelism": {},
        "f:template": {
            "f:spec": {
                "f:containers": {
                    'k:{"name":"pi"}': {
                        ".": {},
                        "f:image": {},
                        "f:name": {},
                        "f:ports": {
                            'k:{"containerPort":80,"protocol":"TCP"}': {
                                ".": {},
                                "f:containerPort": {},
                            }
                        },
                    }
                },
                "f:restartPolicy": {},
            }
        },
    },
}


def test_create_records_every_field_the_writer_set():
    obj = job()
    update_managed_fields(None, obj, "kubectl-create", "Update", "batch/v1", T0)
    # Identity, server bookkeeping and status are nobody's.
    assert obj["metadata"]["managedFields"] == [
        {
            "manager": "kubectl-create",
            "operation": "Update",
            "apiVersion": "batch/v1",
            "time": T0,
            "fieldsType": "FieldsV1",
            "fieldsV1": CREATE_FIELDS,
        }
    ]
    assert {k: v for k, v in obj.items() if k != "metadata"} == {
        k: v for k, v in job().items() if k != "metadata"
    }


def created():
    obj = job()
    update_managed_fields(None, obj, "kubectl-create", "Update", "batch/v1", T0)
    return obj


def entries(obj):
    return {(e["manager"], e["operation"]): e for e in obj["metadata"].get("managedFields", [])}


def owned(obj, manager, operation="Update"):
    return fieldpath.from_fields_v1(entries(obj)[(manager, operation)]["fieldsV1"])


def test_a_change_moves_the_field_to_its_writer():
    old = created()
    new = copy.deepcopy(old)
    new["spec"]["parallelism"] = 3
    update_managed_fields(old, new, "kubectl-edit", "Update", "batch/v1", T1)
    assert owned(new, "kubectl-edit") == {("f:spec", "f:parallelism")}
    assert ("f:spec", "f:parallelism") not in owned(new, "kubectl-create")
    assert entries(new)[("kubectl-create", "Update")]["time"] == T0
    assert entries(new)[("kubectl-edit", "Update")]["time"] == T1
    # Sorted by operation, then time.
    assert [e["manager"] for e in new["metadata"]["managedFields"]] == [
        "kubectl-create",
        "kubectl-edit",
    ]


def test_no_change_leaves_managed_fields_alone():
    old = created()
    new = copy.deepcopy(old)
    update_managed_fields(old, new, "kubectl-edit", "Update", "batch/v1", T1)
    assert new == old


def test_a_client_that_drops_managed_fields_keeps_them():
    old = created()
    new = copy.deepcopy(old)
    del new["metadata"]["managedFields"]
    new["metadata"]["labels"]["tier"] = "x"
    update_managed_fields(old, new, "client", "Update", "batch/v1", T1)
    assert owned(new, "client") == {("f:metadata", "f:labels", "f:tier")}
    assert ("f:metadata", "f:labels", "f:app") in owned(new, "kubectl-create")


def test_a_client_may_rewrite_managed_fields():
    old = created()
    new = copy.deepcopy(old)
    new["metadata"]["managedFields"] = [
        {
            "manager": "someone",
            "operation": "Update",
            "apiVersion": "batch/v1",
            "time": T0,
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:spec": {"f:parallelism": {}}},
        }
    ]
    update_managed_fields(old, new, "client", "Update", "batch/v1", T1)
    assert list(entries(new)) == [("someone", "Update")]


def test_removing_a_field_takes_it_from_everyone_and_drops_empty_entries():
    old = created()
    mid = copy.deepcopy(old)
    mid["metadata"]["labels"]["tier"] = "x"
    update_managed_fields(old, mid, "labeller", "Update", "batch/v1", T1)
    new = copy.deepcopy(mid)
    del new["metadata"]["labels"]["tier"]
    del new["spec"]["parallelism"]
    update_managed_fields(mid, new, "pruner", "Update", "batch/v1", T2)
    assert ("labeller", "Update") not in entries(new)
    assert ("pruner", "Update") not in entries(new)  # it only removed: it owns nothing
    assert ("f:spec", "f:parallelism") not in owned(new, "kubectl-create")


def test_a_removed_container_takes_its_fields_with_it():
    old = created()
    new = copy.deepcopy(old)
    new["spec"]["template"]["spec"]["containers"] = [{"name": "other", "image": "x"}]
    update_managed_fields(old, new, "kubectl-replace", "Update", "batch/v1", T1)
    assert not any('k:{"name":"pi"}' in path for path in owned(new, "kubectl-create"))
    assert ("f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"other"}') in owned(
        new, "kubectl-replace"
    )


def test_status_writes_are_recorded_under_the_status_subresource():
    old = created()
    new = copy.deepcopy(old)
    new["status"] = {"active": 0, "succeeded": 1}
    new["spec"]["parallelism"] = 9  # ignored through /status
    update_managed_fields(
        old, new, "job-controller", "Update", "batch/v1", T1, subresource="status"
    )
    entry = entries(new)[("job-controller", "Update")]
    assert entry["subresource"] == "status"
    assert fieldpath.from_fields_v1(entry["fieldsV1"]) == {
        ("f:status", "f:active"),
        ("f:status", "f:succeeded"),
    }


def test_main_resource_writes_never_own_status():
    old = created()
    new = copy.deepcopy(old)
    new["status"] = {"active": 5}
    update_managed_fields(old, new, "client", "Update", "batch/v1", T1)
    assert ("client", "Update") not in entries(new)


def test_update_managers_are_per_api_version():
    old = created()
    new = copy.deepcopy(old)
    new["spec"]["parallelism"] = 2
    update_managed_fields(old, new, "kubectl-create", "Update", "batch/v2", T1)
    versions = sorted(e["apiVersion"] for e in new["metadata"]["managedFields"])
    assert versions == ["batch/v1", "batch/v2"]


def test_malformed_entries_are_dropped():
    old = created()
    old["metadata"]["managedFields"].append({"manager": 3})
    old["metadata"]["managedFields"].append({"manager": "x", "operation": "Sideways"})
    new = copy.deepcopy(old)
    new["spec"]["parallelism"] = 2
    update_managed_fields(old, new, "m", "Update", "batch/v1", T1)
    assert set(entries(new)) == {("kubectl-create", "Update"), ("m", "Update")}


# -- field sets and fieldsV1 -----------------------------------------------------------------


@pytest.mark.parametrize(
    "obj, paths",
    [
        ({"a": 1, "b": {"c": "x", "d": {}}}, {("f:a",), ("f:b", "f:c"), ("f:b", "f:d")}),
        ({"a": None}, {("f:a",)}),
        ({"args": ["x", "y"]}, {("f:args",)}),  # atomic list: one leaf
        ({"finalizers": ["x", "y"]}, {("f:finalizers", 'v:"x"'), ("f:finalizers", 'v:"y"')}),
        ({"finalizers": ["x", "x"]}, {("f:finalizers",)}),  # not a set: atomic
        (
            {"env": [{"name": "A", "value": "1"}]},
            {
                ("f:env", 'k:{"name":"A"}'),
                ("f:env", 'k:{"name":"A"}', "f:name"),
                ("f:env", 'k:{"name":"A"}', "f:value"),
            },
        ),
        ({"env": [{"value": "1"}]}, {("f:env",)}),  # an item without its key
        ({"env": [{"name": "A"}, {"name": "A"}]}, {("f:env",)}),  # a duplicate key
        (
            {"ports": [{"containerPort": 80, "protocol": "UDP"}]},
            {
                ("f:ports", 'k:{"containerPort":80,"protocol":"UDP"}'),
                ("f:ports", 'k:{"containerPort":80,"protocol":"UDP"}', "f:containerPort"),
                ("f:ports", 'k:{"containerPort":80,"protocol":"UDP"}', "f:protocol"),
            },
        ),
        ({}, set()),
    ],
)
def test_field_set(obj, paths):
    assert fieldpath.field_set(obj) == paths


def test_fields_v1_encoding():
    paths = {
        ("f:a",),
        ("f:b", 'k:{"name":"x"}'),
        ("f:b", 'k:{"name":"x"}', "f:name"),
        ("f:c", "f:d"),
        ("f:c", "v:1"),
    }
    encoded = fieldpath.to_fields_v1(paths)
    assert encoded == {
        "f:a": {},
        "f:b": {'k:{"name":"x"}': {".": {}, "f:name": {}}},
        "f:c": {"f:d": {}, "v:1": {}},
    }
    assert list(encoded["f:c"]) == ["f:d", "v:1"]  # fields before keys before values
    assert fieldpath.from_fields_v1(encoded) == paths
    assert fieldpath.from_fields_v1({"f:x": "junk", "f:y": {}}) == {("f:y",)}


@pytest.mark.parametrize(
    "path, text",
    [
        (("f:spec", "f:parallelism"), ".spec.parallelism"),
        (
            ("f:spec", "f:containers", 'k:{"name":"c"}', "f:image"),
            '.spec.containers[name="c"].image',
        ),
        (
            ("f:ports", 'k:{"containerPort":80,"protocol":"TCP"}'),
            '.ports[containerPort=80,protocol="TCP"]',
        ),
        (("f:metadata", "f:finalizers", 'v:"a/b"'), '.metadata.finalizers[="a/b"]'),
        (("f:x", "i:3"), ".x[3]"),
    ],
)
def test_path_string(path, text):
    assert fieldpath.path_string(path) == text


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (1, 1, True),
        (1, True, False),
        (True, True, True),
        (0, False, False),
        ({"a": [1, {"b": False}]}, {"a": [1, {"b": False}]}, True),
        ({"a": [1, {"b": False}]}, {"a": [1, {"b": 0}]}, False),
        ([1], [1, 2], False),
        ({"a": 1}, {"b": 1}, False),
        (None, None, True),
        ({}, [], False),
    ],
)
def test_same(a, b, expected):
    assert fieldpath.same(a, b) is expected


def test_recording_ownership_leaves_the_old_object_and_the_rest_of_the_new_one_as_they_were():
    """The comparison reads both objects in place (no copies): neither may change but for
    the new object's managedFields."""
    old = job()
    update_managed_fields(None, old, "kubectl", "Update", "batch/v1", T0)
    new = job(parallelism=3)
    new["metadata"]["managedFields"] = copy.deepcopy(old["metadata"]["managedFields"])
    old_before, new_before = copy.deepcopy(old), copy.deepcopy(new)
    update_managed_fields(old, new, "scaler", "Update", "batch/v1", T1)
    assert old == old_before
    del new["metadata"]["managedFields"], new_before["metadata"]["managedFields"]
    assert new == new_before
    plain = job(parallelism=4)  # no managedFields at all: compared as it is
    update_managed_fields(new_before, plain, "scaler", "Update", "batch/v1", T2)
    assert [e["manager"] for e in plain["metadata"]["managedFields"]] == ["scaler"]
