"""apply_patch: the Content-Type decides; what kubectl patch sends for each --type."""

from __future__ import annotations

import json

import pytest

from berth.platform.errors import BadRequest, Invalid, UnsupportedMediaType
from berth.platform.resources import patch

JOB = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {
        "name": "pi",
        "namespace": "default",
        "resourceVersion": "3",
        "labels": {"app": "pi"},
    },
    "spec": {
        "parallelism": 1,
        "completions": 4,
        "template": {
            "spec": {
                "containers": [
                    {"name": "pi", "image": "perl"},
                    {"name": "side", "image": "busybox"},
                ],
                "restartPolicy": "Never",
            }
        },
    },
}


@pytest.mark.parametrize(
    "content_type, body",
    [
        # kubectl patch job pi -p '{"spec":{"parallelism":2}}'
        ("application/strategic-merge-patch+json", b'{"spec":{"parallelism":2}}'),
        # kubectl patch job pi --type=merge -p '{"spec":{"parallelism":2}}'
        ("application/merge-patch+json", b'{"spec":{"parallelism":2}}'),
        # kubectl patch job pi --type=json -p '[{"op":"replace","path":"/spec/parallelism",...}]'
        ("application/json-patch+json", b'[{"op":"replace","path":"/spec/parallelism","value":2}]'),
        ("application/merge-patch+json; charset=utf-8", b'{"spec":{"parallelism":2}}'),
        ("Application/JSON-Patch+JSON", b'[{"op":"replace","path":"/spec/parallelism","value":2}]'),
    ],
)
def test_each_type_sets_parallelism(content_type, body):
    out = patch.apply_patch(content_type, JOB, body)
    assert out["spec"]["parallelism"] == 2
    assert out["spec"]["template"] == JOB["spec"]["template"]
    assert JOB["spec"]["parallelism"] == 1


@pytest.mark.parametrize(
    "content_type, body",
    [
        (patch.STRATEGIC_MERGE_PATCH, b'{"spec":{"parallelism":1}}'),
        (patch.STRATEGIC_MERGE_PATCH, b"{}"),
        (patch.MERGE_PATCH, b'{"metadata":{"labels":{"app":"pi"}}}'),
        (patch.JSON_PATCH, b'[{"op":"test","path":"/spec/completions","value":4}]'),
    ],
)
def test_no_op_patches_return_an_equal_object(content_type, body):
    assert patch.apply_patch(content_type, JOB, body) == JOB


def test_strategic_and_merge_differ_on_containers():
    body = json.dumps(
        {"spec": {"template": {"spec": {"containers": [{"name": "pi", "image": "perl:2"}]}}}}
    ).encode()
    smp = patch.apply_patch(patch.STRATEGIC_MERGE_PATCH, JOB, body)
    mp = patch.apply_patch(patch.MERGE_PATCH, JOB, body)
    assert [c["name"] for c in smp["spec"]["template"]["spec"]["containers"]] == ["pi", "side"]
    assert [c["name"] for c in mp["spec"]["template"]["spec"]["containers"]] == ["pi"]


@pytest.mark.parametrize(
    "content_type", [None, "", "application/json", "text/plain", "application/apply-patch+cbor"]
)
def test_unsupported_media_type(content_type):
    with pytest.raises(UnsupportedMediaType) as err:
        patch.apply_patch(content_type, JOB, b"{}")
    assert err.value.code == 415
    assert err.value.message == (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, "
        "application/strategic-merge-patch+json, application/apply-patch+yaml"
    )


@pytest.mark.parametrize(
    "content_type, body",
    [
        (patch.MERGE_PATCH, b"{not json"),
        (patch.MERGE_PATCH, b""),
        (patch.MERGE_PATCH, b"[1]"),
        (patch.STRATEGIC_MERGE_PATCH, b'[{"op":"add"}]'),
        (patch.STRATEGIC_MERGE_PATCH, b"null"),
        (patch.JSON_PATCH, b'{"op":"add"}'),
        (patch.APPLY, b"- a\n- b\n"),
        (patch.APPLY, b"a: [unclosed"),
    ],
)
def test_malformed_bodies_are_400(content_type, body):
    with pytest.raises(BadRequest) as err:
        patch.apply_patch(content_type, JOB, body, manager="kubectl")
    assert err.value.code == 400


def test_force_is_only_for_apply():
    with pytest.raises(Invalid) as err:
        patch.apply_patch(patch.MERGE_PATCH, JOB, b"{}", force=False)
    assert err.value.code == 422
    assert err.value.message == (
        'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: '
        "may not be specified for non-apply patch"
    )


def test_apply_needs_a_field_manager():
    with pytest.raises(Invalid) as err:
        patch.apply_patch(patch.APPLY, JOB, b"{}")
    assert "fieldManager: Required value: is required for apply patch" in err.value.message


def test_apply_through_the_dispatcher_creates_and_updates():
    body = (
        b'{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"pi"},"spec":{"parallelism":2}}'
    )
    created = patch.apply_patch(
        patch.APPLY, None, body, manager="kubectl", force=False, now="2026-01-01T00:00:00Z"
    )
    assert created["spec"] == {"parallelism": 2}
    assert created["metadata"]["managedFields"][0]["manager"] == "kubectl"
    yaml_body = b"apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: pi\nspec:\n  parallelism: 3\n"
    updated = patch.apply_patch(
        patch.APPLY, created, yaml_body, manager="kubectl", now="2026-01-02T00:00:00Z"
    )
    assert updated["spec"] == {"parallelism": 3}


def test_other_types_need_an_object():
    with pytest.raises(ValueError):
        patch.apply_patch(patch.MERGE_PATCH, None, b"{}")


@pytest.mark.parametrize(
    "body, expected",
    [
        (b'{"a": 1}', {"a": 1}),
        (b"a: 1\nb: [x, y]\n", {"a": 1, "b": ["x", "y"]}),
        # Timestamps and dates stay strings, as sigs.k8s.io/yaml reads them.
        (
            b"t: 2026-01-01T00:00:00Z\nd: 2026-01-01\n",
            {"t": "2026-01-01T00:00:00Z", "d": "2026-01-01"},
        ),
        ("a: é".encode(), {"a": "é"}),
    ],
)
def test_parse_apply_body(body, expected):
    assert patch.parse_apply_body(body) == expected


@pytest.mark.parametrize(
    "content_type, expected",
    [
        ("application/merge-patch+json; charset=utf-8", patch.MERGE_PATCH),
        (" APPLICATION/APPLY-PATCH+YAML ", patch.APPLY),
        (None, ""),
    ],
)
def test_media_type(content_type, expected):
    assert patch.media_type(content_type) == expected


@pytest.mark.parametrize(
    "content_type, expected",
    [
        ("application/apply-patch+yaml", True),
        ("Application/Apply-Patch+YAML", True),
        ("application/apply-patch+yaml; charset=utf-8", True),
        (" APPLICATION/APPLY-PATCH+YAML ;x=y", True),
        ("application/merge-patch+json", False),
        ("application/apply-patch+json", False),
        ("", False),
        (None, False),
    ],
)
def test_is_apply(content_type, expected):
    assert patch.is_apply(content_type) is expected
