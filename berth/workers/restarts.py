"""The kubelet's restart back-off for a crashing container: the delay, and how
``CrashLoopBackOff`` messages write it (``back-off 40s``, ``back-off 5m0s``)."""

from __future__ import annotations


def backoff_delay(failures: int, base: float, cap: float) -> float:
    """Delay before restart number ``failures`` (1-based) of a crashing container."""
    return min(base * (2 ** max(failures - 1, 0)), cap)


def format_delay(delay: float) -> str:
    return f"{delay:g}s" if delay < 60 else f"{int(delay // 60)}m{int(delay % 60)}s"
