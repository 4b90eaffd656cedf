"""``meta.clone``: a deep copy through orjson that never changes a value's type behind the
caller's back (what orjson would rewrite, it leaves to ``copy.deepcopy``)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from berth.platform.resources.meta import clone


class Colour(enum.Enum):
    RED = "red"


class Name(str):
    pass


@dataclass
class Point:
    x: int


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ({"a": [1, 2.5, None, True, {"b": "c"}]}, {"a": [1, 2.5, None, True, {"b": "c"}]}),
        ({"t": (1, 2)}, {"t": [1, 2]}),  # as the store returns it
        ({"e": Colour.RED}, {"e": "red"}),  # as the store returns it
        ({"d": datetime(2026, 1, 2, tzinfo=UTC)}, {"d": datetime(2026, 1, 2, tzinfo=UTC)}),
        ({"s": {1, 2}}, {"s": {1, 2}}),
        ({1: "non-string key"}, {1: "non-string key"}),
        ({"big": 2**70}, {"big": 2**70}),
        ({"p": Point(1)}, {"p": Point(1)}),
        ({"n": Name("x")}, {"n": Name("x")}),
    ],
)
def test_clone_equals_and_shares_nothing(original, expected):
    copied = clone(original)
    assert copied == expected
    assert copied is not original
    for key, value in copied.items():
        assert type(value) is type(expected[key])
        if isinstance(value, (dict, list, set)):
            assert value is not original[key]


def test_clone_of_a_nested_object_is_independent():
    pod = {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c"}]}}
    copied = clone(pod)
    copied["metadata"]["labels"]["a"] = "changed"
    copied["spec"]["containers"].append({"name": "d"})
    assert pod == {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c"}]}}
