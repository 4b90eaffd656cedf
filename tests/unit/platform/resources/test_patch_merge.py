"""JSON merge patch (RFC 7386) and JSON patch (RFC 6902)."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from berth.platform.errors import BadRequest, RequestEntityTooLarge
from berth.platform.resources.patch import (
    PatchRejected,
    apply_json_patch,
    create_merge_patch,
    merge_patch,
    strategic_merge_patch,
)


# RFC 7386, appendix A.
@pytest.mark.parametrize(
    "target, patch, result",
    [
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_rfc7386_examples(target, patch, result):
    before = copy.deepcopy(target)
    assert merge_patch(target, patch) == result
    assert target == before


def test_merge_patch_replaces_merge_lists_whole():
    # --type=merge knows no merge keys: containers are replaced, unlike a strategic patch.
    job = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}
            }
        }
    }
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "z"}]}}}}
    assert merge_patch(job, patch)["spec"]["template"]["spec"]["containers"] == [
        {"name": "a", "image": "z"}
    ]
    assert strategic_merge_patch(job, patch)["spec"]["template"]["spec"]["containers"] == [
        {"name": "a", "image": "z"},
        {"name": "b", "image": "y"},
    ]


json_scalars = st.one_of(st.booleans(), st.integers(-5, 5), st.text(max_size=3))
keys = st.sampled_from(["a", "b", "c", "spec", "name"])
# Values without nulls: RFC 7386 cannot set a member to null, so diffs of such documents
# are the only ones that round-trip.
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=12,
)
json_objects = st.dictionaries(keys, json_values, max_size=4)


@settings(max_examples=200, deadline=None)
@given(json_objects, json_objects)
def test_merge_patch_of_a_diff_gives_the_target(a, b):
    assert merge_patch(a, create_merge_patch(a, b)) == b


@settings(max_examples=200, deadline=None)
@given(json_objects, json_objects)
def test_merge_patch_is_idempotent(a, p):
    once = merge_patch(a, p)
    assert merge_patch(once, p) == once


@settings(max_examples=200, deadline=None)
@given(json_objects, json_objects)
def test_strategic_equals_merge_patch_without_merge_lists(a, b):
    # Keys outside the merge-key tables and no directives: the two patch types agree.
    patch = create_merge_patch(a, b)
    assert strategic_merge_patch(a, patch) == merge_patch(a, patch)


JOB = {
    "metadata": {"name": "pi", "labels": {"app": "pi"}},
    "spec": {"parallelism": 1, "template": {"spec": {"containers": [{"name": "pi"}]}}},
}


@pytest.mark.parametrize(
    "ops, check",
    [
        (
            [{"op": "replace", "path": "/spec/parallelism", "value": 3}],
            lambda o: o["spec"]["parallelism"] == 3,
        ),
        (
            [{"op": "add", "path": "/metadata/labels/tier", "value": "x"}],
            lambda o: o["metadata"]["labels"] == {"app": "pi", "tier": "x"},
        ),
        (
            [{"op": "remove", "path": "/metadata/labels/app"}],
            lambda o: o["metadata"]["labels"] == {},
        ),
        (
            [{"op": "add", "path": "/spec/template/spec/containers/-", "value": {"name": "b"}}],
            lambda o: (
                [x["name"] for x in o["spec"]["template"]["spec"]["containers"]] == ["pi", "b"]
            ),
        ),
        (
            [
                {"op": "test", "path": "/spec/parallelism", "value": 1},
                {"op": "replace", "path": "/spec/parallelism", "value": 2},
            ],
            lambda o: o["spec"]["parallelism"] == 2,
        ),
        (
            [{"op": "copy", "from": "/metadata/name", "path": "/metadata/labels/name"}],
            lambda o: o["metadata"]["labels"]["name"] == "pi",
        ),
        (
            [{"op": "move", "from": "/metadata/labels/app", "path": "/metadata/labels/b"}],
            lambda o: o["metadata"]["labels"] == {"b": "pi"},
        ),
        ([], lambda o: o == JOB),
    ],
)
def test_json_patch(ops, check):
    before = copy.deepcopy(JOB)
    assert check(apply_json_patch(JOB, ops))
    assert JOB == before


@pytest.mark.parametrize(
    "ops, fragment",
    [
        (
            [{"op": "test", "path": "/spec/parallelism", "value": 3}],
            "testing value /spec/parallelism failed: test failed",
        ),
        (
            [
                {"op": "replace", "path": "/spec/parallelism", "value": 3},
                {"op": "test", "path": "/spec/completions", "value": 3},
            ],
            "testing value /spec/completions failed: test failed",
        ),
        ([{"op": "replace", "path": "/spec/nothere/x", "value": 3}], "replace operation does not"),
        ([{"op": "remove", "path": "/metadata/annotations"}], "remove operation does not apply"),
        ([{"op": "explode", "path": "/spec"}], ""),
        ([{"path": "/spec"}], ""),
        ([{"op": "add", "path": 7, "value": 1}], ""),
    ],
)
def test_json_patch_that_cannot_apply_is_422(ops, fragment):
    with pytest.raises(PatchRejected) as err:
        apply_json_patch(JOB, ops)
    assert err.value.code == 422
    assert err.value.message == "the server rejected our request due to an error in our request"
    cause = err.value.details["causes"][0]
    assert cause["reason"] == "UnexpectedServerResponse" and fragment in cause["message"]


@pytest.mark.parametrize("body", [{"op": "add"}, "x", [1, 2]])
def test_json_patch_that_is_not_a_list_of_operations_is_400(body):
    with pytest.raises(BadRequest):
        apply_json_patch(JOB, body)


def test_json_patch_replacing_the_root_with_a_non_object_is_400():
    with pytest.raises(BadRequest):
        apply_json_patch(JOB, [{"op": "replace", "path": "", "value": [1]}])


def test_json_patch_operation_limit():
    ops = [{"op": "test", "path": "/metadata/name", "value": "pi"}] * 10001
    with pytest.raises(RequestEntityTooLarge) as err:
        apply_json_patch(JOB, ops)
    assert "10000" in err.value.message
