"""Hostile values that reach the database, on SQLite and on PostgreSQL: NUL characters and
over-long strings in names, namespaces, selectors, bindings and indexed fields.

SQLite takes any string; PostgreSQL refuses a NUL in text and more than n characters in a
VARCHAR(n) with an error. Either way the answer must be the same Kubernetes answer, never a 500.
"""

from __future__ import annotations

import base64
from urllib.parse import quote

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

PODS = registry.POD.path(NAMESPACE)
PVCS = registry.PERSISTENT_VOLUME_CLAIM.path(NAMESPACE)
MERGE = "application/merge-patch+json"
APPLY = "application/apply-patch+yaml"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request) -> str:
    return request.param


def _status_put(api, path: str, status: dict):
    current = api.get(path).json()
    current["status"] = {**(current.get("status") or {}), **status}
    return api.put(
        f"{path}/status",
        content=orjson.dumps(current),
        headers={"content-type": "application/json"},
    )


def _token(data: dict) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).decode().rstrip("=")


# (description, method, path, content type, body, the code Kubernetes answers)
CASES = [
    ("GET a name with a NUL", "GET", f"{PODS}/a%00b", None, None, 404),
    ("DELETE a name with a NUL", "DELETE", f"{PODS}/a%00b", None, None, 404),
    ("merge-patch a name with a NUL", "PATCH", f"{PODS}/a%00b", MERGE, b"{}", 404),
    (
        "apply a name with a NUL",
        "PATCH",
        f"{PODS}/a%00b?fieldManager=f",
        APPLY,
        b'{"apiVersion": "v1", "kind": "Pod"}',
        422,
    ),
    ("list a namespace with a NUL", "GET", registry.POD.path("a%00b"), None, None, 200),
    ("GET in a namespace with a NUL", "GET", registry.POD.path("a%00b", "x"), None, None, 404),
    (
        "field selector metadata.name with a NUL",
        "GET",
        f"{PODS}?fieldSelector=metadata.name%3Da%00",
        None,
        None,
        200,
    ),
    (
        "field selector metadata.namespace with a NUL",
        "GET",
        "/api/v1/pods?fieldSelector=metadata.namespace%3D%00",
        None,
        None,
        200,
    ),
    (
        "field selector spec.nodeName with a NUL",
        "GET",
        "/api/v1/pods?fieldSelector=spec.nodeName%3Dn%00",
        None,
        None,
        200,
    ),
    (
        "field selector status.phase with a NUL",
        "GET",
        "/api/v1/pods?fieldSelector=status.phase%3DRunning%00",
        None,
        None,
        200,
    ),
    (
        "field selector spec.nodeName of 300 characters",
        "GET",
        "/api/v1/pods?fieldSelector=spec.nodeName%3D" + "n" * 300,
        None,
        None,
        200,
    ),
    (
        "field selector status.phase of 100 characters",
        "GET",
        "/api/v1/pods?fieldSelector=status.phase%3D" + "p" * 100,
        None,
        None,
        200,
    ),
    ("label selector value with a NUL", "GET", f"{PODS}?labelSelector=a%3Db%00", None, None, 400),
    (
        "continue token pointing at a NUL",
        "GET",
        f"{PODS}?limit=1&continue={_token({'rv': 1, 'start': [chr(0), chr(0)]})}",
        None,
        None,
        200,
    ),
    (
        "bind to a node name with a NUL",
        "POST",
        f"{PODS}/{TARGET}/binding",
        "application/json",
        b'{"target": {"name": "n\\u0000"}}',
        422,
    ),
    (
        "bind to a node name of 300 characters",
        "POST",
        f"{PODS}/{TARGET}/binding",
        "application/json",
        b'{"target": {"name": "' + b"n" * 300 + b'"}}',
        422,
    ),
    (
        "bind to a target that is a list",
        "POST",
        f"{PODS}/{TARGET}/binding",
        "application/json",
        b'{"target": ["n"]}',
        400,
    ),
    (
        "bind to a node name that is a number",
        "POST",
        f"{PODS}/{TARGET}/binding",
        "application/json",
        b'{"target": {"name": 5}}',
        422,
    ),
    (
        "label value of 64 characters",
        "POST",
        PODS,
        "application/json",
        orjson.dumps(
            {
                **manifest(registry.POD, "long-label"),
                "metadata": {"name": "long-label", "labels": {"a": "v" * 64}},
            }
        ),
        422,
    ),
]


@pytest.mark.parametrize(
    "what, method, path, content_type, body, code", CASES, ids=[c[0] for c in CASES]
)
def test_values_the_database_cannot_hold(
    api, ensure_target, what, method, path, content_type, body, code
):
    ensure_target(registry.POD)
    headers = {"content-type": content_type} if content_type else {}
    response = api.request(method, path, content=body, headers=headers)
    assert_kubernetes_answer(response)
    assert response.status_code == code, response.text


@pytest.mark.parametrize("phase", ["p" * 65, "Bound\x00", "Pending"])
def test_a_phase_the_index_cannot_hold_is_kept_in_the_object(api, ensure_target, phase):
    ensure_target(registry.PERSISTENT_VOLUME_CLAIM)
    response = _status_put(api, f"{PVCS}/{TARGET}", {"phase": phase})
    assert_kubernetes_answer(response)
    if response.status_code == 200:
        assert api.get(f"{PVCS}/{TARGET}").json()["status"]["phase"] == phase


NASTY = st.text(
    alphabet=st.sampled_from(["\x00", "a", "-", ".", "é", "/", "%", " "]), min_size=1, max_size=12
) | st.sampled_from(["a" * 300, "\x00" * 300])


@FUZZ_SETTINGS
@given(
    rt=st.sampled_from(registry.ALL),
    name=NASTY,
    namespace=NASTY,
    method=st.sampled_from(["GET", "DELETE", "PATCH", "PUT"]),
    field=st.sampled_from(["metadata.name", "metadata.namespace", "spec.nodeName", "status.phase"]),
)
def test_nasty_names_and_selectors_on_every_kind(api, rt, name, namespace, method, field):
    path = rt.path(quote(namespace, safe="") if rt.namespaced else None, quote(name, safe=""))
    body = orjson.dumps(manifest(rt, name))
    content_type = MERGE if method == "PATCH" else "application/json"
    assert_kubernetes_answer(
        api.request(method, path, content=body, headers={"content-type": content_type})
    )
    listed = api.get(rt.path(), params={"fieldSelector": f"{field}={name}"})
    assert_kubernetes_answer(listed)


def test_the_api_still_serves_after_the_fuzzing(api):
    assert_still_serves(api)
