"""Admission under scarcity: when the cluster's scarcest resource runs short, hold back the
jobs that ask for more of it than the typical request, as pure functions.

When more work arrives than the cluster holds, every unit a large job takes is a unit the
small requests arriving after it cannot have: placing one 8-GPU job near the end turns
away eight 1-GPU pods or twenty shares. Placing everything that fits while room is plenty
and holding back the large jobs once room is short gets both the capacity allocated (the
cluster still fills up: the small requests use the room) and the most pods placed.

Which resource is short is read from the cluster, not configured: the one with the least
free share of its capacity (``scarcest``): GPUs on a GPU-bound fleet, CPU where CPU-only
pods crowd the GPU nodes. Only that resource holds pods back: holding back for CPU while
GPUs were what ran out turned away GPU jobs that the drained cluster then had no room for.
On a cluster without GPUs there is no admission: it serves the GPUs' capacity (CPU pods
on a CPU-only cluster would only be delayed), and such clusters place as they did before.

"Large" is learned from the workload mix, not configured: a request is large when it asks
for more of the scarce resource than the median of the recent demand for it
(``mix.weighted_median``: GPU demand through the kinds, shares counting as their fraction;
CPU and memory through every arrival). Holding back more than that (every request above the
mean, 1-GPU pods in a sharing-heavy mix) left GPUs free that the small requests could not
fill. "Short" is the strategy's reserve for that resource (``scoring.Strategy``): the share
of the capacity that would still be free after the placement; a cluster whose reserve is
smaller than the job never holds it back. A held-back pod is not lost: it stays pending, is
explained as held back, and once it has waited past the backfill policy's threshold it
reserves a node (``backfill.py``), so it cannot starve.

CPU and memory get a larger reserve than GPUs (50% against 20%): their free share counts
what is left on every node, much of it in pieces beside full GPUs or full memory that no
pod can use. On ``bench_gpu_packing``'s cpu-heavy variant (seeds 1-5) a 30% reserve placed
fewer pods than spread on 4 of 5 seeds, 35% 150-250 more, 50% 600-900 more; on the other
variants GPUs are always the scarcest resource, so the CPU reserve never applies there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from berth.scheduler.mix import Kind, Medians, weighted_median
from berth.scheduler.scoring import Strategy
from berth.scheduler.views import PodRequest

GPUS = "GPUs"
CPU = "CPU"
MEMORY = "memory"
HELD_BACK = "held back"

# How a resource's amounts read in a message: (unit, name).
_UNITS = {GPUS: (1, "GPUs"), CPU: (1000, "CPUs"), MEMORY: (2**30, "GiB of memory")}


class Level(NamedTuple):
    """One resource of the cluster: its capacity and how much of it is requested."""

    resource: str
    capacity: float
    requested: float


class Pressure(NamedTuple):
    """A pod against the scarce resource: how much it ``asks``, the ``median`` request of
    the mix, the cluster's ``level`` of that resource and the ``reserve`` kept there."""

    asks: float
    median: float
    level: Level
    reserve: float


def median_request(kinds: Sequence[Kind]) -> float:
    """The GPU request at the middle of the mix's GPU demand: requests up to this size ask
    for at least half of the GPUs asked for (0 for an empty mix). Larger requests are the
    ones held back: the smaller ones that ask for the other half fill the room they
    leave."""
    return weighted_median((k.gpu + k.milli / 1000, k.share) for k in kinds)


def scarcest(levels: Sequence[Level]) -> Level | None:
    """The resource with the least free share of its capacity (None: no capacity at all);
    on a tie, the first of ``levels``."""
    known = [level for level in levels if level.capacity > 0]
    if not known:
        return None
    return min(known, key=lambda level: (level.capacity - level.requested) / level.capacity)


def pressure_on(
    pod: PodRequest,
    levels: Sequence[Level],
    gpu_median: float,
    medians: Medians,
    strategy: Strategy,
) -> Pressure | None:
    """``pod`` against the scarcest of the cluster's ``levels`` (GPUs, CPU, memory), with
    that resource's median request (``gpu_median``: the kinds' ``median_request``) and the
    strategy's reserve for it; None when the strategy has no admission or the cluster no
    capacity."""
    if not (strategy.admission_reserve or strategy.host_reserve):
        return None
    level = scarcest(levels)
    if level is None:
        return None
    if level.resource == GPUS:
        return Pressure(pod.gpus, gpu_median, level, strategy.admission_reserve)
    if not any(lv.resource == GPUS and lv.capacity > 0 for lv in levels):
        return None  # no GPUs to keep usable: CPU-only clusters place as before
    if level.resource == CPU:
        return Pressure(pod.cpu, medians.cpu, level, strategy.host_reserve)
    return Pressure(pod.memory, medians.memory, level, strategy.host_reserve)


def holds_back(
    asks: float, median: float, capacity: float, requested: float, reserve: float
) -> bool:
    """Whether a pod that ``asks`` this much of a resource waits although it fits: it asks
    for more than ``median`` and would leave less than ``reserve`` of the ``capacity`` free
    (``requested``: what is taken already). ``reserve`` 0: never. A cluster whose reserve
    could not hold the job itself is too small for this to pay (two GPUs, a 2-GPU job):
    there the job is placed."""
    if reserve <= 0 or capacity <= 0 or median <= 0:
        return False
    short = reserve * capacity
    return median < asks <= short and capacity - requested - asks < short


def held(pressure: Pressure) -> bool:
    level = pressure.level
    return holds_back(
        pressure.asks, pressure.median, level.capacity, level.requested, pressure.reserve
    )


def held_back_message(pressure: Pressure) -> str:
    unit, name = _UNITS[pressure.level.resource]
    return (
        f"{HELD_BACK}: asks for {pressure.asks / unit:g} {name}, more than the recent median "
        f"request ({pressure.median / unit:g}), while less than {pressure.reserve:.0%} of "
        f"the cluster's {pressure.level.resource} {'are' if name == 'GPUs' else 'is'} free"
    )
