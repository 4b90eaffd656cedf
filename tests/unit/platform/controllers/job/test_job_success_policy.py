"""successPolicy rules for Indexed Jobs: succeededIndexes and/or succeededCount."""

import pytest

from berth.platform.controllers.job import success_policy


@pytest.mark.parametrize(
    "rules, succeeded, message",
    [
        ([{"succeededIndexes": "0-2"}], {0, 1, 2}, "Matched rules at index 0"),
        ([{"succeededIndexes": "0-2"}], {0, 2}, None),
        ([{"succeededIndexes": "0-2", "succeededCount": 2}], {0, 2, 7}, "Matched rules at index 0"),
        ([{"succeededIndexes": "0-2", "succeededCount": 2}], {0, 7}, None),
        ([{"succeededCount": 3}], {4, 7, 9}, "Matched rules at index 0"),
        ([{"succeededCount": 3}], {4, 7}, None),
        ([{"succeededIndexes": "5"}, {"succeededCount": 1}], {1}, "Matched rules at index 1"),
        ([{"succeededIndexes": "x"}, {"succeededCount": 1}], {1}, "Matched rules at index 1"),
        ([{"succeededIndexes": "0"}], set(), None),
        # rule indexes beyond completions are ignored: "8-20" with 10 completions is 8,9
        ([{"succeededIndexes": "8-20"}], {8, 9}, "Matched rules at index 0"),
    ],
)
def test_rules(rules, succeeded, message):
    assert success_policy.match({"rules": rules}, 10, succeeded) == message


def test_no_policy_never_matches():
    assert success_policy.match(None, 3, {0, 1, 2}) is None
