"""Exponential backoff: the one doubling rule behind every retry delay in Berth.

The kubelet's CrashLoopBackOff (``workers/restarts.py``), the Job controller's wait before
replacing failed pods (``controllers/job/backoff.py``), the scheduler's pod backoff
(``scheduler/queue.py``) and the controllers' work queue retries (``controllers/workqueue.py``)
all wait ``initial * 2**(attempt - 1)``, capped; each keeps its own initial delay and cap.
"""

from __future__ import annotations

# 2.0 ** 1023 is the largest power of two a float holds; past it ``**`` raises OverflowError.
_MAX_DOUBLINGS = 1023


def exponential(attempt: int, initial: float, cap: float) -> float:
    """The wait before attempt number ``attempt`` (1-based): ``initial`` for the first,
    doubled for each after it, at most ``cap``; 0 for ``attempt <= 0``. Any count is safe:
    a loop that has failed for days gets ``cap``, never an OverflowError."""
    if attempt <= 0:
        return 0.0
    return min(initial * 2.0 ** min(attempt - 1, _MAX_DOUBLINGS), cap)
