"""Cell formatting helpers: HumanDuration, label selectors, access modes."""

from datetime import UTC, datetime, timedelta

import pytest

from berth.platform.api.tables.format import (
    access_modes,
    bool_text,
    container_cells,
    human_duration,
    label_selector,
    quantity_text,
    since,
)

NOW = datetime(2026, 11, 25, 19, 26, 44, tzinfo=UTC)


@pytest.mark.parametrize(
    "seconds, want",
    [
        (-5, "<invalid>"),
        (-1.5, "0s"),
        (-0.2, "0s"),
        (0, "0s"),
        (63, "63s"),
        (119.9, "119s"),
        (120, "2m"),
        (123, "2m3s"),
        (599, "9m59s"),
        (600, "10m"),
        (10799, "179m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 4 * 60 + 59, "3h4m"),
        (8 * 3600, "8h"),
        (47 * 3600, "47h"),
        (48 * 3600, "2d"),
        (51 * 3600, "2d3h"),
        (8 * 86400, "8d"),
        (729 * 86400, "729d"),
        (730 * 86400, "2y"),
        (731 * 86400, "2y1d"),
        (8 * 365 * 86400, "8y"),
        (20 * 365 * 86400, "20y"),
    ],
)
def test_human_duration(seconds, want):
    assert human_duration(timedelta(seconds=seconds)) == want


def test_since_reads_rfc3339_and_reports_unknown_without_a_time():
    assert since("2026-11-25T19:25:41Z", NOW) == "63s"
    assert since(None, NOW) == "<unknown>"
    assert since("not a time", NOW) == "<unknown>"


@pytest.mark.parametrize(
    "selector, want",
    [
        (None, "<none>"),
        ({}, "<none>"),
        ({"matchLabels": {"job-name": "pi"}}, "job-name=pi"),
        ({"matchLabels": {"b": "2", "a": "1"}}, "a=1,b=2"),
        (
            {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["y", "x"]}]},
            "tier in (x,y)",
        ),
        ({"matchExpressions": [{"key": "t", "operator": "NotIn", "values": ["x"]}]}, "t notin (x)"),
        (
            {
                "matchExpressions": [
                    {"key": "gpu", "operator": "Exists"},
                    {"key": "arm", "operator": "DoesNotExist"},
                ],
                "matchLabels": {"app": "x"},
            },
            "app=x,!arm,gpu",
        ),
        ({"matchExpressions": [{"key": "k", "operator": "Bogus"}]}, "<error>"),
    ],
)
def test_label_selector(selector, want):
    assert label_selector(selector) == want


@pytest.mark.parametrize(
    "modes, want",
    [
        (None, ""),
        (["ReadWriteMany", "ReadWriteOnce"], "RWO,RWX"),
        (["ReadOnlyMany", "ReadOnlyMany", "ReadWriteOncePod"], "ROX,RWOP"),
    ],
)
def test_access_modes(modes, want):
    assert access_modes(modes) == want


def test_container_cells_and_small_helpers():
    assert container_cells([{"name": "a", "image": "busybox"}, {"name": "b", "image": "py"}]) == (
        "a,b",
        "busybox,py",
    )
    assert container_cells(None) == ("", "")
    assert [bool_text(v) for v in (None, True, False)] == ["<unset>", "True", "False"]
    assert [quantity_text(v) for v in (None, "1Gi", 5, 2.0)] == ["0", "1Gi", "5", "2"]
