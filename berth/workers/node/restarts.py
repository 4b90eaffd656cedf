"""The kubelet's restart back-off for a crashing container: its defaults, the delay, and how
``CrashLoopBackOff`` messages write it (``back-off 40s``, ``back-off 5m0s``)."""

from __future__ import annotations

from berth.platform.backoff import exponential

# The kubelet's own: 10 s, doubling, at most 5 minutes (settings may change both).
RESTART_BACKOFF_BASE_S = 10.0
RESTART_BACKOFF_CAP_S = 300.0


def backoff_delay(failures: int, base: float, cap: float) -> float:
    """Delay before restart number ``failures`` (1-based; 0 counts as 1) of a crashing
    container."""
    return exponential(max(failures, 1), base, cap)


def format_delay(delay: float) -> str:
    return f"{delay:g}s" if delay < 60 else f"{int(delay // 60)}m{int(delay % 60)}s"
