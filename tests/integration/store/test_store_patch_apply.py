"""The store client recognises server-side apply by its media type in any letter case, as the
API handler does (``patch.is_apply``): it creates a missing object and records the apply
under its manager. It once compared case-sensitively and took a mixed-case apply for a plain
patch (404 on a missing object; an Update by the manager on an existing one)."""

from __future__ import annotations

import pytest

from berth.platform.resources import registry


def _body(value: str) -> bytes:
    return (
        b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, '
        b'"data": {"k": "' + value.encode() + b'"}}'
    )


@pytest.mark.parametrize(
    "content_type",
    [
        "application/apply-patch+yaml",
        "Application/Apply-Patch+YAML",
        "APPLICATION/APPLY-PATCH+YAML;charset=utf-8",
    ],
)
def test_apply_in_any_case(client, content_type):
    created, was_created = client.patch(
        registry.CONFIG_MAP, "default", "cm", content_type, _body("one"), field_manager="tester"
    )
    assert was_created and created["data"] == {"k": "one"}
    updated, was_created = client.patch(
        registry.CONFIG_MAP, "default", "cm", content_type, _body("two"), field_manager="tester"
    )
    assert not was_created and updated["data"] == {"k": "two"}
    assert [(m["manager"], m["operation"]) for m in updated["metadata"]["managedFields"]] == [
        ("tester", "Apply")
    ]
