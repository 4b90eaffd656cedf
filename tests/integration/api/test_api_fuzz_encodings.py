"""Hostile encodings: YAML bombs, nesting deeper than any object, bytes that are not UTF-8,
bodies at and past the size limit, and broken Kubernetes protobuf. Each answer is a Kubernetes
``Status`` that comes back quickly (a bomb must not hang the server or fill its memory) and the
server keeps serving."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from berth.platform.resources import registry
from tests.integration.api.api_fuzz_support import (
    FUZZ_SETTINGS,
    NAMESPACE,
    TARGET,
    assert_kubernetes_answer,
    assert_still_serves,
    manifest,
)

PROTOBUF = "application/vnd.kubernetes.protobuf"
PROTOBUF_FIXTURES = sorted(
    (Path(__file__).parents[3] / "tests/unit/platform/api/fixtures").glob("*.pb")
)
CM = registry.CONFIG_MAP.path(NAMESPACE)
CM_TARGET = registry.CONFIG_MAP.path(NAMESPACE, TARGET)
# Seconds: a bound on blow-up, not a performance figure. An alias expansion or a quadratic
# parse takes minutes to hours; a refusal or a linear parse takes well under a second on a quiet
# machine, and the bound leaves room for a machine loaded twenty-fold (16.8 s was seen there for
# the 300k-value YAML body, against 15 s before).
QUICK = 20.0


def laughs(levels: int, width: int = 9, indent: str = "") -> str:
    """The billion laughs: each level a list of ``width`` aliases of the level below."""
    lines = [f'{indent}l0: &l0 ["lol"]']
    lines += [
        f"{indent}l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]"
        for i in range(1, levels + 1)
    ]
    return "\n".join(lines)


BOMB = laughs(9)  # 9**9 = 387 million "lol"s from about 400 bytes
STRING_BOMB = 'a: &a "' + "x" * 100_000 + '"\nb: [' + ", ".join(["*a"] * 10_000) + "]"

YAML_CASES = {
    "bomb at the top level (unknown fields)": (
        "POST",
        CM,
        "application/yaml",
        "metadata: {name: bomb1}\n" + BOMB,
    ),
    "bomb in a known map": (
        "POST",
        CM,
        "application/yaml",
        "metadata:\n  name: bomb2\n  annotations:\n" + laughs(9, indent="    "),
    ),
    "bomb in a free-form field (managedFields)": (
        "POST",
        CM,
        "application/yaml",
        "metadata:\n  name: bomb3\n  managedFields:\n  - manager: x\n    fieldsV1:\n"
        + laughs(9, indent="      "),
    ),
    "bomb as a server-side apply": (
        "PATCH",
        CM_TARGET + "?fieldManager=fuzz",
        "application/apply-patch+yaml",
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {TARGET}}}\n" + BOMB,
    ),
    "bomb as a PUT": (
        "PUT",
        CM_TARGET,
        "application/yaml",
        f"metadata: {{name: {TARGET}}}\n" + BOMB,
    ),
    "one long string repeated by aliases": (
        "PATCH",
        CM_TARGET + "?fieldManager=fuzz",
        "application/apply-patch+yaml",
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {TARGET}}}\n" + STRING_BOMB,
    ),
    "an alias to itself": ("POST", CM, "application/yaml", "metadata: &m {name: *m}"),
    "python object tag": (
        "POST",
        CM,
        "application/yaml",
        "!!python/object/apply:os.system ['true']",
    ),
    "binary, set and NaN values": (
        "POST",
        CM,
        "application/yaml",
        "metadata: {name: odd}\ndata: {a: !!binary aGk=}\nx: !!set {a, b}\ny: .nan",
    ),
    "surrogate escapes": (
        "POST",
        CM,
        "application/yaml",
        'metadata: {name: sur}\ndata: {"\\ud800": "\\udfff"}',
    ),
    "non-string keys": (
        "POST",
        CM,
        "application/yaml",
        "metadata: {name: keys}\ndata: {1: a, true: b, null: c, 2020-01-01: d}",
    ),
    "a complex key": ("POST", CM, "application/yaml", "? [a, b]\n: c"),
    "nesting past the limit": (
        "POST",
        CM,
        "application/yaml",
        "metadata: {name: deep}\nx: " + "[" * 500 + "]" * 500,
    ),
}


@pytest.mark.parametrize(
    "method, path, content_type, body", list(YAML_CASES.values()), ids=list(YAML_CASES)
)
def test_yaml_that_would_blow_up_is_refused_quickly(
    api, ensure_target, method, path, content_type, body
):
    ensure_target(registry.CONFIG_MAP)
    started = time.monotonic()
    response = api.request(
        method, path, content=body.encode(), headers={"content-type": content_type}
    )
    assert time.monotonic() - started < QUICK
    assert_kubernetes_answer(response)
    stored = api.get(CM_TARGET)
    assert len(stored.content) < 10_000, "an alias expansion was stored"


def test_yaml_anchors_within_reason_still_work(api):
    body = "metadata: {name: anchors}\ndata:\n  a: &v hello\n  b: *v\nbinaryData: {}\n"
    response = api.post(CM, content=body.encode(), headers={"content-type": "application/yaml"})
    assert response.status_code == 201, response.text
    assert response.json()["data"] == {"a": "hello", "b": "hello"}


def _nested(depth: int, leaf: bytes = b"1") -> bytes:
    return b'{"a":' * depth + leaf + b"}" * depth


DEEP = [50, 99, 100, 101, 500, 1023, 1025, 100_000]


@pytest.mark.parametrize("depth", DEEP)
@pytest.mark.parametrize(
    "where",
    [
        "unknown field",
        "managedFields",
        "merge patch",
        "strategic merge patch",
        "json patch",
        "apply",
    ],
)
def test_nesting_deeper_than_any_object(api, ensure_target, depth, where):
    ensure_target(registry.CONFIG_MAP)
    inner = _nested(depth)
    method, path, content_type = "PATCH", CM_TARGET + "?fieldManager=fuzz", None
    if where == "unknown field":
        method, path, content_type = "POST", CM, "application/json"
        body = b'{"metadata": {"generateName": "deep-"}, "x": ' + inner + b"}"
    elif where == "managedFields":
        method, path, content_type = "POST", CM, "application/json"
        body = (
            b'{"metadata": {"generateName": "deep-", "managedFields": [{"manager": "m", '
            b'"operation": "Update", "fieldsType": "FieldsV1", "fieldsV1": ' + inner + b"}]}}"
        )
    elif where == "json patch":
        content_type = "application/json-patch+json"
        body = b'[{"op": "add", "path": "/metadata/annotations", "value": ' + inner + b"}]"
    else:
        content_type = {
            "merge patch": "application/merge-patch+json",
            "strategic merge patch": "application/strategic-merge-patch+json",
            "apply": "application/apply-patch+yaml",
        }[where]
        body = (
            b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "'
            + TARGET.encode()
            + b'"}, "data": '
            + inner
            + b"}"
        )
    started = time.monotonic()
    response = api.request(method, path, content=body, headers={"content-type": content_type})
    assert time.monotonic() - started < QUICK
    assert_kubernetes_answer(response)


NOT_UTF8 = [
    b"\xff\xfe\xfd",
    b'{"metadata": {"name": "\xff"}}',
    b"metadata:\n  name: \xe9t\xe9\n",
    b'{"data": {"a": "\xc3\x28"}}',
    b"\xef\xbb\xbf{}",
    b"\xfe\xff\x00{\x00}",
    "metadata: {name: utf16}".encode("utf-16"),
    b'{"a": "\xed\xa0\x80"}',
]


@pytest.mark.parametrize("body", NOT_UTF8)
@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/yaml",
        "application/merge-patch+json",
        "application/apply-patch+yaml",
        PROTOBUF,
    ],
)
def test_bytes_that_are_not_utf8(api, ensure_target, body, content_type):
    ensure_target(registry.CONFIG_MAP)
    path = CM_TARGET + "?fieldManager=fuzz" if "patch" in content_type else CM
    method = "PATCH" if "patch" in content_type else "POST"
    assert_kubernetes_answer(
        api.request(method, path, content=body, headers={"content-type": content_type})
    )


@pytest.mark.parametrize("size", [3 * 1024 * 1024 - 200, 3 * 1024 * 1024 + 1])
@pytest.mark.parametrize(
    "content_type", ["application/json", "application/yaml", "application/merge-patch+json"]
)
def test_bodies_at_and_past_the_size_limit(api, ensure_target, size, content_type):
    ensure_target(registry.CONFIG_MAP)
    head = b'{"metadata": {"generateName": "big-"}, "data": {"a": "'
    body = head + b"x" * (size - len(head) - 3) + b'"}}'
    method, path = ("PATCH", CM_TARGET) if "patch" in content_type else ("POST", CM)
    started = time.monotonic()
    response = api.request(method, path, content=body, headers={"content-type": content_type})
    assert time.monotonic() - started < QUICK
    assert_kubernetes_answer(response)
    if size > 3 * 1024 * 1024:
        assert response.status_code == 413


@pytest.mark.parametrize("content_type", ["application/json", "application/yaml"])
def test_a_wide_body_of_300k_values(api, content_type):
    body = b'{"metadata": {"generateName": "wide-"}, "x": [' + b",".join([b"1"] * 300_000) + b"]}"
    started = time.monotonic()
    response = api.post(CM, content=body, headers={"content-type": content_type})
    assert time.monotonic() - started < 4 * QUICK
    assert_kubernetes_answer(response)


def _kind_path(body: bytes) -> str:
    for rt in registry.ALL:
        if rt.kind.encode() in body[:80]:
            return rt.path(NAMESPACE if rt.namespaced else None)
    return CM


@FUZZ_SETTINGS
@given(
    fixture=st.sampled_from(PROTOBUF_FIXTURES),
    data=st.data(),
    edit=st.sampled_from(["flip", "truncate", "insert", "delete", "wrong endpoint"]),
)
def test_broken_protobuf_bodies(api, fixture, data, edit):
    """kubectl's own protobuf bodies, damaged one byte or one cut at a time."""
    body = bytearray(fixture.read_bytes())
    at = data.draw(st.integers(0, len(body) - 1), label="at")
    path = _kind_path(bytes(body))
    if edit == "flip":
        body[at] ^= data.draw(st.integers(1, 255), label="xor")
    elif edit == "truncate":
        del body[at:]
    elif edit == "insert":
        body[at:at] = data.draw(st.binary(min_size=1, max_size=8), label="bytes")
    elif edit == "delete":
        del body[at]
    else:
        path = data.draw(
            st.sampled_from([rt.path(NAMESPACE) for rt in registry.ALL if rt.namespaced]),
            label="path",
        )
    response = api.post(path, content=bytes(body), headers={"content-type": PROTOBUF})
    assert_kubernetes_answer(response)


@FUZZ_SETTINGS
@given(tail=st.binary(max_size=300), rt=st.sampled_from(registry.ALL))
def test_random_protobuf_bodies(api, tail, rt):
    response = api.post(
        rt.path(NAMESPACE if rt.namespaced else None),
        content=b"k8s\x00" + tail,
        headers={"content-type": PROTOBUF},
    )
    assert_kubernetes_answer(response)


def test_an_object_with_every_string_in_unicode_round_trips(api):
    body = manifest(registry.CONFIG_MAP, "unicode")
    body["metadata"]["annotations"] = {"note": "🙂 é \u202e \u0000 \U0010ffff"}
    body["data"] = {"k": "日本語 🙂 \u0000"}
    created = api.post(CM, content=orjson.dumps(body), headers={"content-type": "application/json"})
    assert created.status_code == 201, created.text
    assert api.get(CM + "/unicode").json()["data"] == body["data"]


def test_the_api_still_serves_after_the_fuzzing(api):
    assert_still_serves(api)
