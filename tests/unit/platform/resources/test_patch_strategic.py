"""Strategic merge patch: merge keys, directives and list order.

Most cases are Kubernetes' own (apimachinery ``strategicpatch/patch_test.go``), with its test
fields renamed to the Berth fields that have the same strategy: ``mergingList`` is
``containers`` (merge key ``name``), ``mergingIntList`` is ``finalizers`` (a union),
``nonMergingList`` is ``tolerations`` and ``nonMergingIntList`` is ``args`` (replaced).
"""

from __future__ import annotations

import copy
import json

import pytest

from berth.platform.errors import BadRequest
from berth.platform.resources.patch import PatchRejected, strategic_merge_patch

ORDER = "$setElementOrder/containers"


def c(name, **fields):
    return {"name": name, **fields}


CASES = [
    # -- maps ---------------------------------------------------------------------------------
    ("add field", {"name": 1}, {"value": 1}, {"name": 1, "value": 1}),
    ("null deletes", {"name": 1, "value": 1}, {"name": None}, {"value": 1}),
    ("null for a missing key is ignored", {"a": 1}, {"b": None}, {"a": 1}),
    (
        "nested map merge",
        {"labels": {"a": "1", "b": "2"}},
        {"labels": {"b": None, "c": "3"}},
        {"labels": {"a": "1", "c": "3"}},
    ),
    ("nulls in a new subtree are dropped", {}, {"spec": {"a": 1, "b": None}}, {"spec": {"a": 1}}),
    (
        "$patch delete empties a map",
        {"labels": {"a": "1"}},
        {"labels": {"$patch": "delete"}},
        {"labels": {}},
    ),
    ("$patch replace at the top", {"name": 1, "value": 1}, {"$patch": "replace"}, {}),
    (
        "$patch replace keeps the patch",
        {"name": 1, "value": 1},
        {"other": "a", "$patch": "replace"},
        {"other": "a"},
    ),
    (
        "$patch replace on a nested map",
        {"spec": {"a": 1, "b": {"c": 2}}},
        {"spec": {"b": {"d": 3, "$patch": "replace"}}},
        {"spec": {"a": 1, "b": {"d": 3}}},
    ),
    ("type change replaces", {"a": {"b": 1}}, {"a": "x"}, {"a": "x"}),
    # -- scalar lists -------------------------------------------------------------------------
    (
        "union of merged scalars",
        {"finalizers": [1, 2]},
        {"finalizers": [2, 3]},
        {"finalizers": [1, 2, 3]},
    ),
    (
        "patch order first",
        {"finalizers": [1, 2, 3]},
        {"finalizers": [3, 1, 2]},
        {"finalizers": [3, 1, 2]},
    ),
    (
        "live-only first when it led",
        {"finalizers": [1, 2, 3]},
        {"finalizers": [3, 1]},
        {"finalizers": [2, 3, 1]},
    ),
    ("other scalar lists are replaced", {"args": [1, 2]}, {"args": [2, 3]}, {"args": [2, 3]}),
    (
        "$deleteFromPrimitiveList",
        {"finalizers": [1, 2, 3]},
        {"$deleteFromPrimitiveList/finalizers": [2]},
        {"finalizers": [1, 3]},
    ),
    (
        "$deleteFromPrimitiveList on a replaced list",
        {"args": [1, 2, 3]},
        {"$deleteFromPrimitiveList/args": [2]},
        {"args": [1, 3]},
    ),
    (
        "$deleteFromPrimitiveList of a missing item",
        {"finalizers": [1, 2]},
        {"$deleteFromPrimitiveList/finalizers": [3]},
        {"finalizers": [1, 2]},
    ),
    (
        "$deleteFromPrimitiveList adds no list",
        {"foo": ["bar"]},
        {"$deleteFromPrimitiveList/finalizers": [3]},
        {"foo": ["bar"]},
    ),
    (
        "$deleteFromPrimitiveList deletes duplicates",
        {"finalizers": [1, 2, 3, 3, 4]},
        {"$setElementOrder/finalizers": [1, 2], "$deleteFromPrimitiveList/finalizers": [3]},
        {"finalizers": [1, 2, 4]},
    ),
    (
        "add and delete scalars",
        {"finalizers": [1, 2, 3, 4]},
        {"$setElementOrder/finalizers": [1, 2, 4], "$deleteFromPrimitiveList/finalizers": [3]},
        {"finalizers": [1, 2, 4]},
    ),
    (
        "$setElementOrder with an item not in the list",
        {"finalizers": [1, 3]},
        {"$setElementOrder/finalizers": [3, 2, 1]},
        {"finalizers": [3, 1]},
    ),
    # -- lists of maps ------------------------------------------------------------------------
    (
        "merge by name",
        {"containers": [c("a", image="x"), c("b", image="y")]},
        {"containers": [c("b", image="z")]},
        {"containers": [c("a", image="x"), c("b", image="z")]},
    ),
    (
        "a new item goes before the live-only ones",
        {"containers": [c("a"), c("b")]},
        {"containers": [c("c")]},
        {"containers": [c("c"), c("a"), c("b")]},
    ),
    (
        "preserve the order from the patch",
        {"containers": [c("1"), c("2", value="b"), c("3")]},
        {"containers": [c("3", value="c"), c("1", value="a"), c("2", other="x")]},
        {"containers": [c("3", value="c"), c("1", value="a"), c("2", value="b", other="x")]},
    ),
    (
        "preserve the order from the patch 2",
        {"containers": [c("1"), c("2", value="b"), c("3")]},
        {"containers": [c("3", value="c"), c("1", value="a")]},
        {"containers": [c("2", value="b"), c("3", value="c"), c("1", value="a")]},
    ),
    (
        "$patch delete an item",
        {"containers": [c("1"), c("2", other="b")]},
        {ORDER: [c("2")], "containers": [{"name": "1", "$patch": "delete"}]},
        {"containers": [c("2", other="b")]},
    ),
    (
        "$patch delete every duplicate",
        {"containers": [c("1"), c("1"), c("2", value="a"), c("3"), c("3")]},
        {"containers": [{"name": "1", "$patch": "delete"}, {"name": "3", "$patch": "delete"}]},
        {"containers": [c("2", value="a")]},
    ),
    (
        "$patch replace a whole list",
        {"containers": [c("1"), c("2")]},
        {"containers": [{"$patch": "replace"}]},
        {"containers": []},
    ),
    (
        "$patch replace with new items",
        {"containers": [c("1"), c("2")]},
        {"containers": [{"$patch": "replace"}, c("3", image="x")]},
        {"containers": [c("3", image="x")]},
    ),
    (
        "null deletes a field of an item",
        {"containers": [c("1", value="1", other="a"), c("2", value="2")]},
        {ORDER: [c("1"), c("2")], "containers": [c("1", value=None)]},
        {"containers": [c("1", other="a"), c("2", value="2")]},
    ),
    (
        "nested replaced list inside a merged item",
        {"containers": [c("1", other="a", tolerations=[c("1"), c("2", value="2")]), c("2")]},
        {ORDER: [c("1"), c("2")], "containers": [c("1", tolerations=[c("1", value="1")])]},
        {"containers": [c("1", other="a", tolerations=[c("1", value="1")]), c("2")]},
    ),
    ("empty merge lists", {"containers": []}, {"containers": []}, {"containers": []}),
    # -- $setElementOrder ---------------------------------------------------------------------
    (
        "merge lists of maps",
        {"containers": [c("1", other="a"), c("2", value="2", other="b")]},
        {
            ORDER: [c("4"), c("1"), c("2"), c("3")],
            "containers": [c("4", value="4"), c("3", value="3")],
        },
        {
            "containers": [
                c("4", value="4"),
                c("1", other="a"),
                c("2", value="2", other="b"),
                c("3", value="3"),
            ]
        },
    ),
    (
        "merge lists of maps with a changed value",
        {"containers": [c("1", other="a"), c("2", value="3", other="b")]},
        {ORDER: [c("1"), c("2"), c("3")], "containers": [c("2", value="2"), c("3", value="3")]},
        {"containers": [c("1", other="a"), c("2", value="2", other="b"), c("3", value="3")]},
    ),
    (
        "add an item the live list lacked",
        {"containers": [c("1", other="a"), c("3", value="2", other="b")]},
        {ORDER: [c("1"), c("2")], "containers": [c("1", value="1"), c("2", value="2")]},
        {
            "containers": [
                c("1", value="1", other="a"),
                c("2", value="2"),
                c("3", value="2", other="b"),
            ]
        },
    ),
    (
        "nested patch merge with an empty list",
        {"name": "hi", "containers": [c("hello2")]},
        {
            ORDER: [c("hello"), c("doesntexist")],
            "containers": [c("hello"), {"$patch": "delete", "name": "doesntexist"}],
        },
        {"name": "hi", "containers": [c("hello"), c("hello2")]},
    ),
    # Kubernetes gives [2, 4, 3] here, an accident of Go slice aliasing; Berth keeps the rule
    # it follows everywhere else: patch items in $setElementOrder order, new ones ahead of
    # live-only items that did not precede them.
    (
        "add and delete items with a live-only item",
        {"containers": [c("1"), c("2", other="b"), c("4", other="c")]},
        {ORDER: [c("2"), c("3")], "containers": [c("3"), {"name": "1", "$patch": "delete"}]},
        {"containers": [c("2", other="b"), c("3"), c("4", other="c")]},
    ),
    (
        "$setElementOrder alone reorders",
        {"containers": [c("a"), c("b")]},
        {ORDER: [c("b"), c("a")]},
        {"containers": [c("b"), c("a")]},
    ),
    (
        "$setElementOrder with a list the live object lacks",
        {},
        {ORDER: [c("a")], "containers": [c("a", image="x")]},
        {"containers": [c("a", image="x")]},
    ),
    # -- $retainKeys --------------------------------------------------------------------------
    (
        "$retainKeys clears what is not listed",
        {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}},
        {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}},
        {"strategy": {"type": "Recreate"}},
    ),
    (
        "$retainKeys inside a volume",
        {"volumes": [{"name": "v", "emptyDir": {}}, {"name": "w", "emptyDir": {}}]},
        {
            "volumes": [
                {"name": "v", "$retainKeys": ["configMap", "name"], "configMap": {"name": "cm"}}
            ]
        },
        {"volumes": [{"name": "v", "configMap": {"name": "cm"}}, {"name": "w", "emptyDir": {}}]},
    ),
    (
        "a merge without $retainKeys keeps fields",
        {"strategy": {"name": "foo"}},
        {"strategy": {"value": "bar"}},
        {"strategy": {"name": "foo", "value": "bar"}},
    ),
    # -- Kubernetes merge keys ----------------------------------------------------------------
    (
        "env by name",
        {"env": [c("A", value="1"), c("B", value="2")]},
        {"$setElementOrder/env": [c("A"), c("B")], "env": [c("B", value="3")]},
        {"env": [c("A", value="1"), c("B", value="3")]},
    ),
    (
        "volumeMounts by mountPath",
        {"volumeMounts": [{"name": "a", "mountPath": "/a"}, {"name": "b", "mountPath": "/b"}]},
        {"volumeMounts": [{"mountPath": "/b", "readOnly": True}]},
        {
            "volumeMounts": [
                {"name": "a", "mountPath": "/a"},
                {"name": "b", "mountPath": "/b", "readOnly": True},
            ]
        },
    ),
    (
        "ports by containerPort",
        {"ports": [{"containerPort": 80, "name": "http"}]},
        {"ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443}]},
        {
            "ports": [
                {"containerPort": 80, "name": "http", "protocol": "TCP"},
                {"containerPort": 443},
            ]
        },
    ),
    (
        "ownerReferences by uid",
        {"ownerReferences": [{"uid": "1", "kind": "Job"}]},
        {"ownerReferences": [{"uid": "1", "controller": True}]},
        {"ownerReferences": [{"uid": "1", "kind": "Job", "controller": True}]},
    ),
    (
        "conditions by type",
        {
            "conditions": [
                {"type": "Complete", "status": "False"},
                {"type": "Failed", "status": "False"},
            ]
        },
        {"conditions": [{"type": "Complete", "status": "True"}]},
        {
            "conditions": [
                {"type": "Complete", "status": "True"},
                {"type": "Failed", "status": "False"},
            ]
        },
    ),
    (
        "tolerations are replaced",
        {"tolerations": [{"key": "a"}, {"key": "b"}]},
        {"tolerations": [{"key": "c"}]},
        {"tolerations": [{"key": "c"}]},
    ),
    (
        "node addresses by type",
        {
            "addresses": [
                {"type": "InternalIP", "address": "1"},
                {"type": "Hostname", "address": "n"},
            ]
        },
        {"addresses": [{"type": "InternalIP", "address": "2"}]},
        {
            "addresses": [
                {"type": "InternalIP", "address": "2"},
                {"type": "Hostname", "address": "n"},
            ]
        },
    ),
    (
        "imagePullSecrets by name",
        {"imagePullSecrets": [c("a")]},
        {"imagePullSecrets": [c("b")]},
        {"imagePullSecrets": [c("b"), c("a")]},
    ),
]


@pytest.mark.parametrize("name, original, patch, expected", CASES, ids=[case[0] for case in CASES])
def test_strategic_merge_patch(name, original, patch, expected):
    before, patch_before = copy.deepcopy(original), copy.deepcopy(patch)
    assert strategic_merge_patch(original, patch) == expected
    assert original == before and patch == patch_before  # neither input is touched


JOB = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {
        "name": "pi",
        "namespace": "default",
        "resourceVersion": "7",
        "labels": {"app": "pi"},
        "finalizers": ["batch.kubernetes.io/job-tracking"],
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
    },
    "spec": {
        "parallelism": 1,
        "completions": 3,
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": "pi",
                        "image": "perl:5.34",
                        "command": ["perl", "-e", "1"],
                        "env": [{"name": "A", "value": "1"}],
                    }
                ],
                "restartPolicy": "Never",
            }
        },
    },
    "status": {"active": 1},
}


def test_kubectl_patch_parallelism():
    out = strategic_merge_patch(JOB, {"spec": {"parallelism": 2}})
    assert out["spec"]["parallelism"] == 2
    assert {k: v for k, v in out["spec"].items() if k != "parallelism"} == {
        k: v for k, v in JOB["spec"].items() if k != "parallelism"
    }


def test_kubectl_apply_twice_changes_the_image():
    # What kubectl apply -f sends when only the image changed in the manifest.
    patch = {
        "metadata": {
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"new": true}'}
        },
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "pi"}],
                    "containers": [{"image": "perl:5.36", "name": "pi"}],
                }
            }
        },
    }
    out = strategic_merge_patch(JOB, patch)
    container = out["spec"]["template"]["spec"]["containers"][0]
    assert container == {**JOB["spec"]["template"]["spec"]["containers"][0], "image": "perl:5.36"}
    assert out["metadata"]["annotations"] == {
        "kubectl.kubernetes.io/last-applied-configuration": '{"new": true}'
    }


def test_kubectl_apply_adds_and_removes_containers_and_env():
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "pi"}, {"name": "side"}],
                    "containers": [
                        {
                            "name": "pi",
                            "$setElementOrder/env": [{"name": "B"}],
                            "env": [{"name": "B", "value": "2"}, {"$patch": "delete", "name": "A"}],
                        },
                        {"name": "side", "image": "busybox"},
                    ],
                }
            }
        }
    }
    out = strategic_merge_patch(JOB, patch)
    containers = out["spec"]["template"]["spec"]["containers"]
    assert [x["name"] for x in containers] == ["pi", "side"]
    assert containers[0]["env"] == [{"name": "B", "value": "2"}]
    assert containers[1] == {"name": "side", "image": "busybox"}

    removed = strategic_merge_patch(
        out,
        {
            "spec": {
                "template": {
                    "spec": {
                        "$setElementOrder/containers": [{"name": "side"}],
                        "containers": [{"$patch": "delete", "name": "pi"}],
                    }
                }
            }
        },
    )
    assert removed["spec"]["template"]["spec"]["containers"] == [containers[1]]


def test_finalizers_merge_as_a_set():
    out = strategic_merge_patch(JOB, {"metadata": {"finalizers": ["example.com/mine"]}})
    assert out["metadata"]["finalizers"] == ["example.com/mine", "batch.kubernetes.io/job-tracking"]
    out = strategic_merge_patch(
        out,
        {"metadata": {"$deleteFromPrimitiveList/finalizers": ["batch.kubernetes.io/job-tracking"]}},
    )
    assert out["metadata"]["finalizers"] == ["example.com/mine"]


def test_no_op_patch_is_equal():
    assert strategic_merge_patch(JOB, {}) == JOB
    assert strategic_merge_patch(JOB, {"spec": {"parallelism": 1}}) == JOB
    assert (
        strategic_merge_patch(
            JOB, {"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "pi"}]}}}}
        )
        == JOB
    )


def test_unknown_directives_are_dropped():
    assert strategic_merge_patch({"a": 1}, {"$future": [1], "b": 2}) == {"a": 1, "b": 2}


@pytest.mark.parametrize(
    "original, patch, error, fragment",
    [
        (
            {"containers": [c("1", value="a")]},
            {"containers": [{"value": "b"}]},
            BadRequest,
            "does not contain declared merge key: name",
        ),
        (
            {"containers": [c("1"), c("3"), c("2")]},
            {ORDER: [c("1"), c("2"), c("3")], "containers": [c("3", value="3"), c("1", value="1")]},
            BadRequest,
            "doesn't match $setElementOrder list",
        ),
        (
            {"finalizers": [1, 3, 2]},
            {"$setElementOrder/finalizers": [1, 2, 3], "finalizers": [3, 1]},
            BadRequest,
            "doesn't match",
        ),
        ({"labels": {}}, {"labels": {"$patch": "explode"}}, BadRequest, "unknown patch type"),
        (
            {"containers": [c("1")]},
            {"containers": [{"name": "1", "$patch": "merge"}]},
            BadRequest,
            "merging lists cannot yet be specified in the patch",
        ),
        (
            {"containers": [c("1")]},
            {"containers": [{"name": "1", "$patch": "explode"}]},
            BadRequest,
            "unknown patch type: explode",
        ),
        (
            {"strategy": {"type": "a"}},
            {"strategy": {"$retainKeys": ["type"], "other": 1}},
            PatchRejected,
            "patch content doesn't match retainKeys list",
        ),
        (
            {"strategy": {}},
            {"strategy": {"$retainKeys": "type"}},
            BadRequest,
            "invalid patch format of retainKeys",
        ),
        (
            {"finalizers": [[1]]},
            {"finalizers": [[2]]},
            PatchRejected,
            "lists of lists are not supported",
        ),
        (
            {"finalizers": [1]},
            {"finalizers": [{"a": 1}]},
            BadRequest,
            "list element types are not identical",
        ),
        (
            {"finalizers": [1]},
            {"$deleteFromPrimitiveList/finalizers": 1},
            BadRequest,
            "invalid patch format of primitive list",
        ),
        ({}, {"$setElementOrder/": []}, BadRequest, "invalid patch format of setElementOrder list"),
        (
            {"containers": []},
            {ORDER: "x"},
            BadRequest,
            "invalid patch format of setElementOrder list",
        ),
    ],
)
def test_errors(original, patch, error, fragment):
    with pytest.raises(error) as err:
        strategic_merge_patch(original, patch)
    text = err.value.message + json.dumps(err.value.details)
    assert fragment in text


def test_rejection_is_a_422_with_the_library_message_as_cause():
    with pytest.raises(PatchRejected) as err:
        strategic_merge_patch({"s": {}}, {"s": {"$retainKeys": [], "x": 1}})
    assert err.value.code == 422 and err.value.reason == "Invalid"
    assert (
        err.value.details["causes"][0]["message"] == "patch content doesn't match retainKeys list"
    )
