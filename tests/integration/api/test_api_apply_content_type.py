"""Server-side apply is recognised by its media type in any letter case (media types are
case-insensitive), the same way by the API handler and by the store client behind it.

A mixed-case ``Application/Apply-Patch+YAML`` used to be apply to the handler (which decoded
the body as an apply configuration and took ``fieldManager`` from the query) but not to the
store client (which compared case-sensitively): an apply that should create the object
answered 404, and an apply to an existing object was recorded as an Update by its manager.
"""

from __future__ import annotations

import pytest

from tests.integration.api.api_fuzz_support import NAMESPACE

APPLY_TYPES = (
    "application/apply-patch+yaml",
    "Application/Apply-Patch+YAML",
    "APPLICATION/APPLY-PATCH+YAML; charset=utf-8",
)


def _apply(api, name: str, content_type: str, value: str):
    body = (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: {value}\n"
    ).encode()
    return api.patch(
        f"/api/v1/namespaces/{NAMESPACE}/configmaps/{name}",
        content=body,
        headers={"content-type": content_type},
        params={"fieldManager": "tester"},
    )


@pytest.mark.parametrize("content_type", APPLY_TYPES)
def test_apply_in_any_case_creates_then_updates_under_its_manager(api, content_type):
    name = "apply-" + str(APPLY_TYPES.index(content_type))
    created = _apply(api, name, content_type, "one")
    assert created.status_code == 201, created.text
    updated = _apply(api, name, content_type, "two")
    assert updated.status_code == 200, updated.text
    obj = updated.json()
    assert obj["data"] == {"k": "two"}
    assert [(m["manager"], m["operation"]) for m in obj["metadata"]["managedFields"]] == [
        ("tester", "Apply")
    ]
