"""Retrying a read-modify-write that lost a compare-and-set race (client-go's
``retry.RetryOnConflict``, bounded).

The object client's guaranteed update, patch, bind and delete each read an object, work out
the new one, and write it only if its ``resourceVersion`` is still the one read. When another
writer got in between, the write answers Conflict and the whole read-modify-write runs again
on the fresh object. The attempt itself says when that happened, by returning ``LOST_RACE``:
only the compare-and-set is retried, never a Conflict that is the caller's answer (a failed
precondition, a resourceVersion the client pinned).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, TypeVar

T = TypeVar("T")

# Each lost race means another write to the same object landed; twenty in a row is contention
# no retry will get through, so the caller gets the Conflict.
CAS_ATTEMPTS: Final = 20


class LostRace:
    """What an attempt returns when its compare-and-set found the object changed."""

    def __repr__(self) -> str:
        return "LOST_RACE"


LOST_RACE: Final = LostRace()


def retry_on_conflict(
    attempt: Callable[[], T | LostRace], give_up: Exception, attempts: int = CAS_ATTEMPTS
) -> T:
    """``attempt()`` until it returns anything but ``LOST_RACE``, at most ``attempts`` times;
    then raise ``give_up`` (the Conflict to answer). Whatever ``attempt`` raises propagates."""
    for _ in range(attempts):
        result = attempt()
        if not isinstance(result, LostRace):
            return result
    raise give_up
