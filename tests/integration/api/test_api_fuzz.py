"""Hostile request bodies against every endpoint and method: the API answers with a Kubernetes
``Status`` (never a 5xx, never a traceback) and keeps serving.

Bodies are random JSON, random bytes, valid objects of every kind with a value of any type at
any of their paths, and valid objects with any field Kubernetes knows put anywhere in them.
"""

from __future__ import annotations

import copy
import json
import uuid

from hypothesis import given
from hypothesis import strategies as st

from berth.platform.resources import registry
from berth.platform.resources.schema import models
from tests.integration.api.api_fuzz_support import (
    FUZZ_SETTINGS,
    NAMESPACE,
    TARGET,
    assert_kubernetes_answer,
    assert_still_serves,
    manifest,
)

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
CONTENT_TYPES = (
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
    "application/apply-patch+yaml; charset=utf-8",
    "text/plain",
    "*/*",
    "text/html",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "",
    ";;;",
    "application/json; charset=latin-1",
    "APPLICATION/JSON",
)
OTHER_PATHS = (
    "/api",
    "/apis",
    "/api/v1",
    "/apis/batch",
    "/apis/batch/v1",
    "/apis/storage.k8s.io/v1",
    "/apis/coordination.k8s.io/v1",
    "/version",
    "/healthz",
    "/livez",
    "/readyz",
    "/openapi/v3",
    "/openapi/v3/apis/batch/v1",
    "/openapi/v3/api/v1",
    "/api/v2",
    "/apis/apps/v1/deployments",
    "/apis/batch/v2/jobs",
    "/api/v1/nothings",
    f"/api/v1/namespaces/{NAMESPACE}/pods/{TARGET}/exec",
    f"/api/v1/namespaces/{TARGET}/finalize",
    f"/api/v1/namespaces/{TARGET}/status",
    "/",
    "/apis/",
    "/api/",
    "/version/",
    "/healthz/",
    "/openapi/v3/",
    "/apis/batch/v1/",
    "/metrics",
    "/api/v1/namespaces/",
)


def _endpoints() -> list[tuple[registry.ResourceType | None, str]]:
    out: list[tuple[registry.ResourceType | None, str]] = []
    for rt in registry.ALL:
        namespace = NAMESPACE if rt.namespaced else None
        out.append((rt, rt.path(namespace)))
        if rt.namespaced:
            out.append((rt, rt.path()))
        item = rt.path(namespace, TARGET)
        out.append((rt, item))
        out += [(rt, f"{item}/{sub}") for sub in rt.subresources]
    return out + [(None, path) for path in OTHER_PATHS]


ENDPOINTS = _endpoints()

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.integers(-3, 3)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(
        [
            "",
            "-1",
            "0",
            "1e3",
            "1Gi",
            "abc",
            "\x00",
            "a" * 300,
            "2026-13-45T99:99:99Z",
            "Always",
            "Never",
            "In",
            "NotIn",
            "*/5 * * * *",
            "../../etc/passwd",
            "🙂",
            "null",
            "true",
        ]
    )
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text(max_size=10)
            | st.sampled_from(
                [
                    "metadata",
                    "spec",
                    "name",
                    "op",
                    "path",
                    "value",
                    "$patch",
                    "$retainKeys",
                    "items",
                    "target",
                    "kind",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


def _dumps(value: object) -> bytes:
    # The standard library writes integers beyond 64 bits, which a hostile client can send.
    return json.dumps(value).encode()


RAW_BODIES = st.one_of(
    JSON_VALUES.map(_dumps),
    st.binary(max_size=200),
    st.sampled_from(
        [
            b"",
            b"null",
            b"{}",
            b"[]",
            b"{",
            b"\xff\xfe",
            b"k8s\x00",
            b'"\\ud800"',
            b"- a\n- b",
            b"a: [",
            b"!!python/object:os.system ls",
            b"1e999",
            b'{"a": 1, "a": 2}',
            b"\x00" * 64,
        ]
    ),
)


def _paths(value: object, prefix: tuple = ()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, prefix + (index,))


def _put(obj: object, path: tuple, value: object) -> object:
    if not path:
        return value
    node = obj
    for step in path[:-1]:
        node = node[step]  # type: ignore[index]
    node[path[-1]] = value  # type: ignore[index]
    return obj


def _send(api, method: str, path: str, body: bytes, content_type: str, params=None):
    headers = {"content-type": content_type} if content_type else {}
    response = api.request(method, path, content=body, headers=headers, params=params)
    assert_kubernetes_answer(response)
    return response


@FUZZ_SETTINGS
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    method=st.sampled_from(METHODS),
    content_type=st.sampled_from(CONTENT_TYPES),
    body=RAW_BODIES,
)
def test_any_body_to_any_endpoint(api, ensure_target, endpoint, method, content_type, body):
    rt, path = endpoint
    if rt is not None:
        ensure_target(rt)
    _send(api, method, path, body, content_type)


WRITE_TYPES = (
    "application/json",
    "application/yaml",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)


@FUZZ_SETTINGS
@given(
    rt=st.sampled_from(registry.ALL),
    data=st.data(),
    value=JSON_VALUES,
    how=st.sampled_from(["create", "update", "status", "patch"]),
    content_type=st.sampled_from(WRITE_TYPES),
)
def test_a_value_of_any_type_at_any_path_of_a_valid_object(
    api, ensure_target, rt, data, value, how, content_type
):
    ensure_target(rt)
    obj = manifest(rt, TARGET if how != "create" else _fresh_name())
    path = data.draw(st.sampled_from(list(_paths(obj))), label="path")
    _write(api, rt, how, content_type, _put(copy.deepcopy(obj), path, value))


def _fresh_name() -> str:
    """A create must not stop at AlreadyExists before validation sees the fuzzed value."""
    return f"fuzzed-{uuid.uuid4().hex[:12]}"


def _write(api, rt: registry.ResourceType, how: str, content_type: str, obj: object) -> None:
    namespace = NAMESPACE if rt.namespaced else None
    body = _dumps(obj)  # JSON is YAML too
    if how == "create":
        _send(
            api,
            "POST",
            rt.path(namespace),
            body,
            content_type.replace("merge-patch+", "")
            .replace("strategic-", "")
            .replace("apply-patch+", ""),
        )
    elif how == "update":
        _send(api, "PUT", rt.path(namespace, TARGET), body, "application/json")
    elif how == "status" and "status" in rt.subresources:
        _send(api, "PUT", rt.path(namespace, TARGET) + "/status", body, "application/json")
    else:
        _send(
            api,
            "PATCH",
            rt.path(namespace, TARGET),
            body,
            content_type if "patch" in content_type else "application/merge-patch+json",
            params={"fieldManager": "fuzz", "fieldValidation": "Warn"},
        )


FIELD_NAMES = sorted({name for fields in models().values() for name in fields})


@FUZZ_SETTINGS
@given(
    rt=st.sampled_from(registry.ALL),
    data=st.data(),
    field=st.sampled_from(FIELD_NAMES),
    value=JSON_VALUES,
    how=st.sampled_from(["create", "update", "status", "patch"]),
    content_type=st.sampled_from(WRITE_TYPES),
)
def test_any_known_field_anywhere_with_any_value(
    api, ensure_target, rt, data, field, value, how, content_type
):
    """Any field name the schema knows, with any value, in any object of a valid manifest: the
    type check, defaulting, validation and the store all see it."""
    ensure_target(rt)
    obj = manifest(rt, TARGET if how != "create" else _fresh_name())
    dicts = [p for p in _paths(obj) if isinstance(_at(obj, p), dict)]
    where = _at(obj, data.draw(st.sampled_from(dicts), label="where"))
    assert isinstance(where, dict)  # one of the paths to a dict, drawn above
    where[field] = value
    _write(api, rt, how, content_type, obj)


def _at(obj: object, path: tuple) -> object:
    for step in path:
        obj = obj[step]  # type: ignore[index]
    return obj


def test_the_api_still_serves_after_the_fuzzing(api):
    assert_still_serves(api)
