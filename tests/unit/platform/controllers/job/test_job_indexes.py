"""Completion-index sets in the compressed form of status.completedIndexes."""

import pytest

from berth.platform.controllers.job import indexes


@pytest.mark.parametrize(
    "given, text",
    [
        ([], ""),
        ([0], "0"),
        ([0, 1], "0,1"),  # a pair stays a pair, as Kubernetes writes it
        ([0, 1, 2], "0-2"),
        ([0, 1, 2, 3, 5], "0-3,5"),
        ([5, 3, 1, 2, 0, 3], "0-3,5"),
        ([1, 3, 5, 6, 7, 9, 10], "1,3,5-7,9,10"),
    ],
)
def test_compress(given, text):
    assert indexes.compress(given) == text


@pytest.mark.parametrize(
    "text, completions, expected",
    [
        ("", None, set()),
        (None, None, set()),
        ("0-3,5", None, {0, 1, 2, 3, 5}),
        ("0,1", None, {0, 1}),
        ("0-3,5", 3, {0, 1, 2}),  # out-of-range indexes are dropped
        ("2-9", 5, {2, 3, 4}),
        ("0-1,x,4", None, {0, 1, 4}),  # a corrupted interval is skipped, not fatal
        ("3-1,2", None, {2}),
        ("-1,2", None, {2}),
    ],
)
def test_parse(text, completions, expected):
    assert indexes.parse(text, completions) == expected


@pytest.mark.parametrize("given", [[0, 1, 2, 3, 5], [7], [0, 2, 4, 6], list(range(100)) + [150]])
def test_parse_reverses_compress(given):
    assert indexes.parse(indexes.compress(given)) == set(given)
