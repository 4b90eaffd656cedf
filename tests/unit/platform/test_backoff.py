"""The one doubling rule every retry delay uses."""

from __future__ import annotations

import pytest

from berth.platform.backoff import exponential


@pytest.mark.parametrize(
    "attempt, want",
    [
        (-1, 0.0),
        (0, 0.0),
        (1, 1.0),
        (2, 2.0),
        (3, 4.0),
        (4, 8.0),
        (5, 10.0),
        (500, 10.0),
        (2000, 10.0),  # far past any float power of two: the cap, not an OverflowError
        (10**9, 10.0),
    ],
)
def test_exponential(attempt, want):
    assert exponential(attempt, 1.0, 10.0) == want


def test_an_infinite_cap_still_never_overflows():
    assert exponential(5000, 10.0, float("inf")) == float("inf")


def test_fractional_initial_delay():
    assert [exponential(n, 0.05, 60.0) for n in (1, 2, 3)] == [0.05, 0.1, 0.2]
