"""The bounded retry of a read-modify-write that lost its compare-and-set race."""

from __future__ import annotations

import pytest

from berth.platform.errors import Conflict
from berth.platform.store.conflicts import CAS_ATTEMPTS, LOST_RACE, retry_on_conflict


def attempts_that(*outcomes):
    """An attempt returning ``outcomes`` in turn, and the list of calls made."""
    calls = []

    def attempt():
        calls.append(len(calls))
        outcome = outcomes[len(calls) - 1]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return attempt, calls


@pytest.mark.parametrize(
    "outcomes, want, tries",
    [
        (("written",), "written", 1),
        ((LOST_RACE, "written"), "written", 2),
        ((LOST_RACE,) * (CAS_ATTEMPTS - 1) + ("written",), "written", CAS_ATTEMPTS),
        ((None,), None, 1),  # any value but LOST_RACE is an answer
    ],
)
def test_retries_until_written(outcomes, want, tries):
    attempt, calls = attempts_that(*outcomes)
    assert retry_on_conflict(attempt, Conflict("pods", "p")) == want
    assert len(calls) == tries


def test_gives_up_with_the_callers_conflict_after_the_bound():
    attempt, calls = attempts_that(*(LOST_RACE,) * (CAS_ATTEMPTS + 5))
    give_up = Conflict("pods", "p")
    with pytest.raises(Conflict) as raised:
        retry_on_conflict(attempt, give_up)
    assert raised.value is give_up and len(calls) == CAS_ATTEMPTS


def test_a_conflict_the_attempt_raises_is_an_answer_not_retried():
    # e.g. a failed precondition, or a resourceVersion the client pinned
    precondition = Conflict("pods", "p", detail="the UID in the precondition does not match")
    attempt, calls = attempts_that(LOST_RACE, precondition, "never reached")
    with pytest.raises(Conflict) as raised:
        retry_on_conflict(attempt, Conflict("pods", "p"))
    assert raised.value is precondition and len(calls) == 2


def test_the_bound_can_be_lowered():
    attempt, calls = attempts_that(LOST_RACE, LOST_RACE, "written")
    with pytest.raises(Conflict):
        retry_on_conflict(attempt, Conflict("pods", "p"), attempts=2)
    assert len(calls) == 2
