"""Scheduler profiles: a pod picks its scoring policy with ``spec.schedulerName``.

``binpack`` packs CPU and memory tightly, ``spread`` spreads them, ``fragmentation-aware``
places GPU work where it fragments the cluster's GPUs least (and packs elsewhere). A pod
naming ``default-scheduler`` (or nothing) gets the configured default. Every profile keeps
whole GPUs whole for GPU pods and keeps CPU pods off GPU nodes while CPU nodes have room.
"""

from __future__ import annotations

from berth.scheduler.scoring import FRAGMENTATION_AWARE, PACK, SPREAD, Strategy

DEFAULT_SCHEDULER = "default-scheduler"
PROFILES: dict[str, Strategy] = {
    "binpack": PACK,
    "spread": SPREAD,
    "fragmentation-aware": FRAGMENTATION_AWARE,
}
SCHEDULER_NAMES = frozenset(PROFILES) | {DEFAULT_SCHEDULER}


def is_ours(scheduler_name: str | None) -> bool:
    """Pods naming another scheduler are left to it, as on Kubernetes."""
    return (scheduler_name or DEFAULT_SCHEDULER) in SCHEDULER_NAMES


def strategy_for(scheduler_name: str, default: Strategy) -> Strategy:
    return PROFILES.get(scheduler_name, default)
