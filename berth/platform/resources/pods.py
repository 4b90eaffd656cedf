"""Pod phases and the one rule everything asks of them: has the pod ended?

A pod is *terminal* once its phase is Succeeded or Failed (Kubernetes ``podutil.IsPodTerminal``):
it holds nothing on its node any more, keeps no claims in use, and its phase never changes
again. The controllers, the scheduler, the workers, the store, the API tables and the CLI all
ask this here.
"""

from __future__ import annotations

from collections.abc import Mapping

PENDING = "Pending"
RUNNING = "Running"
SUCCEEDED = "Succeeded"
FAILED = "Failed"
UNKNOWN = "Unknown"
PHASES = (PENDING, RUNNING, SUCCEEDED, FAILED, UNKNOWN)
TERMINAL_PHASES = frozenset((SUCCEEDED, FAILED))


def phase(pod: Mapping | None) -> str | None:
    """``status.phase``, or None when the pod has none yet."""
    status = (pod or {}).get("status")
    return status.get("phase") if isinstance(status, Mapping) else None


def is_terminal_phase(value: str | None) -> bool:
    return value in TERMINAL_PHASES


def is_terminal(pod: Mapping | None) -> bool:
    """Succeeded or Failed."""
    return is_terminal_phase(phase(pod))


def status_is_terminal(status: Mapping | None) -> bool:
    """The same rule for a pod's ``status`` alone (what a node agent keeps)."""
    return status is not None and is_terminal_phase(status.get("phase"))
