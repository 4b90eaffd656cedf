"""Client-side apply: manifests read, the last-applied record, and the three-way merge patch."""

from __future__ import annotations

import json

import pytest

from berth.cli.applying import (
    LAST_APPLIED,
    contains,
    go_json,
    last_applied,
    load_documents,
    three_way_patch,
    with_last_applied,
)


def test_multi_document_yaml_skips_empty_documents_and_expands_lists():
    text = """
apiVersion: v1
kind: ConfigMap
metadata: {name: a}
---
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Secret, metadata: {name: b}}
- {apiVersion: batch/v1, kind: Job, metadata: {name: c}}
"""
    assert [d["metadata"]["name"] for d in load_documents(text)] == ["a", "b", "c"]


def test_json_is_yaml_too():
    assert (
        load_documents('{"kind": "ConfigMap", "metadata": {"name": "x"}}')[0]["kind"] == "ConfigMap"
    )


def test_a_document_must_be_a_mapping():
    with pytest.raises(ValueError, match="mapping"):
        load_documents("- a\n- b\n")


def test_with_last_applied_records_the_manifest_without_itself():
    manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "x", "annotations": {"team": "a", LAST_APPLIED: "old"}},
        "data": {"k": "v"},
    }
    out = with_last_applied(manifest)
    recorded = json.loads(out["metadata"]["annotations"][LAST_APPLIED])
    assert recorded == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "x", "annotations": {"team": "a"}},
        "data": {"k": "v"},
    }
    assert manifest["metadata"]["annotations"][LAST_APPLIED] == "old"  # input untouched
    assert last_applied(out) == recorded


@pytest.mark.parametrize(
    "live",
    [
        {},
        {"metadata": {"annotations": {LAST_APPLIED: "{bad"}}},
        {"metadata": {"annotations": {LAST_APPLIED: "[1]"}}},
    ],
)
def test_missing_or_broken_last_applied_is_empty(live):
    assert last_applied(live) == {}


@pytest.mark.parametrize(
    "live, wanted, expected",
    [
        ({"a": 1, "b": 2}, {"a": 1}, True),
        ({"a": 1}, {"a": 2}, False),
        ({"a": 1}, {"b": 1}, False),
        (
            [{"name": "m", "image": "x", "imagePullPolicy": "IfNotPresent"}],
            [{"name": "m", "image": "x"}],
            True,
        ),
        ([{"name": "m"}], [{"name": "m"}, {"name": "n"}], False),
        ({"a": [1, 2]}, {"a": [2, 1]}, False),
        ("1", 1, False),
    ],
)
def test_contains(live, wanted, expected):
    assert contains(live, wanted) is expected


LIVE_JOB = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {
        "name": "j",
        "namespace": "d",
        "uid": "u",
        "resourceVersion": "7",
        "labels": {"app": "x", "job-name": "j"},
    },
    "spec": {
        "parallelism": 1,
        "backoffLimit": 6,
        "completions": 2,
        "template": {
            "spec": {
                "restartPolicy": "Never",
                "containers": [
                    {"name": "m", "image": "busybox", "terminationMessagePath": "/dev/x"}
                ],
            }
        },
    },
    "status": {"active": 1},
}
MANIFEST = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"name": "j", "namespace": "d", "labels": {"app": "x"}},
    "spec": {
        "parallelism": 1,
        "completions": 2,
        "template": {
            "spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "busybox"}]}
        },
    },
}


def edit(doc: dict, path: str, value) -> dict:
    out = json.loads(json.dumps(doc))
    *parents, last = path.split(".")
    cur = out
    for key in parents:
        cur = cur[key]
    if value is None:
        del cur[last]
    else:
        cur[last] = value
    return out


def test_unchanged_manifest_gives_an_empty_patch_despite_server_defaults():
    assert three_way_patch(MANIFEST, MANIFEST, LIVE_JOB) == {}


def test_a_changed_scalar_is_sent_alone():
    modified = edit(MANIFEST, "spec.parallelism", 2)
    assert three_way_patch(MANIFEST, modified, LIVE_JOB) == {"spec": {"parallelism": 2}}


def test_a_field_dropped_from_the_manifest_is_deleted():
    modified = edit(MANIFEST, "metadata.labels", None)
    assert three_way_patch(MANIFEST, modified, LIVE_JOB) == {"metadata": {"labels": None}}


def test_a_field_the_manifest_never_had_is_left_alone():
    # backoffLimit was defaulted by the server, never in a manifest: not deleted.
    assert "backoffLimit" not in json.dumps(three_way_patch({}, MANIFEST, LIVE_JOB))


def test_a_changed_list_is_sent_whole():
    modified = edit(
        MANIFEST, "spec.template.spec.containers", [{"name": "m", "image": "busybox:2"}]
    )
    assert three_way_patch(MANIFEST, modified, LIVE_JOB) == {
        "spec": {"template": {"spec": {"containers": [{"name": "m", "image": "busybox:2"}]}}}
    }


def test_a_list_shrunk_in_the_manifest_is_sent_even_when_live_still_contains_it():
    with_env = edit(
        MANIFEST,
        "spec.template.spec.containers",
        [{"name": "m", "image": "busybox", "env": [{"name": "A", "value": "1"}]}],
    )
    live = edit(
        LIVE_JOB,
        "spec.template.spec.containers",
        [{"name": "m", "image": "busybox", "env": [{"name": "A", "value": "1"}]}],
    )
    patch = three_way_patch(with_env, MANIFEST, live)
    assert patch == {
        "spec": {"template": {"spec": {"containers": [{"name": "m", "image": "busybox"}]}}}
    }


def test_someone_elses_change_to_a_managed_field_is_put_back():
    live = edit(LIVE_JOB, "metadata.labels", {"app": "y", "job-name": "j"})
    assert three_way_patch(MANIFEST, MANIFEST, live) == {"metadata": {"labels": {"app": "x"}}}


def test_a_new_annotation_record_is_patched_into_an_object_made_without_apply():
    desired = with_last_applied(MANIFEST)
    patch = three_way_patch({}, desired, LIVE_JOB)
    assert list(patch) == ["metadata"]
    assert LAST_APPLIED in patch["metadata"]["annotations"]
    live = edit(LIVE_JOB, "metadata.annotations", desired["metadata"]["annotations"])
    assert three_way_patch(last_applied(live), desired, live) == {}


# Recorded by kubectl 1.32 (kubectl-samples/table_jobs.json) for this manifest.
KUBECTL_RECORD = (
    '{"apiVersion":"batch/v1","kind":"Job","metadata":{"annotations":{},'
    '"labels":{"app":"x"},"name":"ap","namespace":"default"},"spec":{'
    '"backoffLimit":2,"template":{"metadata":{"labels":{"app":"x"}},"spec":{'
    '"containers":[{"command":["sh","-c","echo hi"],"image":"busybox",'
    '"name":"ap"}],"restartPolicy":"Never"}}}}\n'
)


def test_the_record_is_byte_for_byte_what_kubectl_writes():
    manifest = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "ap", "namespace": "default", "labels": {"app": "x"}},
        "spec": {
            "backoffLimit": 2,
            "template": {
                "metadata": {"labels": {"app": "x"}},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {"name": "ap", "image": "busybox", "command": ["sh", "-c", "echo hi"]}
                    ],
                },
            },
        },
    }
    assert with_last_applied(manifest)["metadata"]["annotations"][LAST_APPLIED] == KUBECTL_RECORD


@pytest.mark.parametrize(
    "value, text",
    [
        ({"b": 1, "a": [True, None, 2.5]}, '{"a":[true,null,2.5],"b":1}'),
        ("<a&b>", '"\\u003ca\\u0026b\\u003e"'),
        ("é\u2028", '"é\\u2028"'),
        ("line\nbreak", '"line\\nbreak"'),
    ],
)
def test_go_json(value, text):
    assert go_json(value) == text
