"""The Table envelope: metadata, includeObject and kinds without a printer."""

from datetime import UTC, datetime

import pytest

from berth.platform.api.tables import to_table
from berth.platform.errors import BadRequest
from berth.platform.resources import registry
from berth.platform.resources.registry import ResourceType

NOW = datetime(2026, 11, 25, 19, 26, 44, tzinfo=UTC)
CM = {
    "metadata": {"name": "cm", "namespace": "default", "creationTimestamp": "2026-11-25T19:25:44Z"},
    "data": {"a": "1"},
}


@pytest.mark.parametrize(
    "include, want",
    [
        (
            "Metadata",
            {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": CM["metadata"],
            },
        ),
        ("Object", {"kind": "ConfigMap", "apiVersion": "v1", **CM}),
        ("None", None),
    ],
)
def test_include_object(include, want):
    table = to_table(
        registry.CONFIG_MAP, [CM], include_object=include, now=NOW, resource_version="9"
    )
    assert table["rows"][0]["object"] == want


def test_bad_include_object_is_a_bad_request():
    with pytest.raises(BadRequest):
        to_table(
            registry.CONFIG_MAP, [CM], include_object="Everything", now=NOW, resource_version="9"
        )


def test_list_metadata_carries_continue_and_remaining_when_given():
    table = to_table(
        registry.CONFIG_MAP, [CM], now=NOW, resource_version="9", continue_token="abc", remaining=4
    )
    assert table["metadata"] == {"resourceVersion": "9", "continue": "abc", "remainingItemCount": 4}
    assert to_table(registry.CONFIG_MAP, [], now=NOW, resource_version="9")["metadata"] == {
        "resourceVersion": "9"
    }


def test_every_row_has_one_cell_per_column():
    for rt in registry.ALL:
        table = to_table(rt, [{"metadata": {"name": "x"}}], now=NOW, resource_version="1")
        assert len(table["rows"][0]["cells"]) == len(table["columnDefinitions"]), rt.kind
        assert table["columnDefinitions"][0]["name"] in ("Name", "Last Seen"), rt.kind


def test_kinds_without_a_printer_get_name_and_created_at():
    other = ResourceType("example.com", "v1", "Widget", "widgets", True)
    table = to_table(other, [CM], now=NOW, resource_version="1")
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Created At"]
    assert table["rows"][0]["cells"] == ["cm", "2026-11-25T19:25:44Z"]
