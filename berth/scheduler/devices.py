"""GPU devices of a node, one by one: whole GPUs and fractions of one.

A node with ``nvidia.com/gpu: N`` has N devices of ``DEVICE_MILLI`` (1000) each. A pod asks
either for whole GPUs (``nvidia.com/gpu: g``: g devices that are entirely free) or for a
share of one (``berth.dev/gpu-milli: m``, 1..1000: one device with at least m free; a share
never spans two devices). The device(s) chosen are written on the pod as the annotation
``berth.dev/gpu-devices`` (``"1"``, ``"0,3"``), so the node's agent shows the pod exactly
those devices and the scheduler rebuilds each device's load from the store after a restart.

Pure functions over a list of free amounts per device (milli-GPUs); no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from berth.platform.resources.gpus import DEVICE_MILLI


def parse_devices(value: str | None) -> tuple[int, ...]:
    """``"0,3"`` → ``(0, 3)``; anything unreadable → ``()`` (the scheduler then chooses)."""
    if not value:
        return ()
    try:
        return tuple(int(part) for part in value.split(","))
    except ValueError:
        return ()


def format_devices(devices: Sequence[int]) -> str:
    return ",".join(str(d) for d in devices)


def whole_free(free: Sequence[int]) -> int:
    """Devices nothing is using: what a whole-GPU request can take."""
    return sum(1 for f in free if f >= DEVICE_MILLI)


def fits_devices(gpu: int, milli: int, free: Sequence[int]) -> bool:
    """Can ``gpu`` whole devices, or one device with ``milli`` free, be had from ``free``?"""
    if gpu and whole_free(free) < gpu:
        return False
    if milli and (not free or max(free) < milli):
        return False
    return True


def best_fit_devices(gpu: int, milli: int, free: Sequence[int]) -> tuple[int, ...] | None:
    """The devices to take: whole GPUs from the lowest-numbered free devices; a share from
    the device with the least free room that still holds it (shares pile up on devices
    already shared and leave whole devices whole). None when it does not fit."""
    if not fits_devices(gpu, milli, free):
        return None
    chosen: list[int] = []
    if gpu:
        chosen = [i for i, f in enumerate(free) if f >= DEVICE_MILLI][:gpu]
    if milli:
        taken = set(chosen)
        room = [(f, i) for i, f in enumerate(free) if f >= milli and i not in taken]
        if not room:
            return None
        chosen.append(min(room)[1])
    return tuple(chosen)


def forced_devices(gpu: int, milli: int, free: Sequence[int]) -> tuple[int, ...]:
    """Devices for a pod the store already shows bound without (valid) devices: the best fit,
    or failing that the freest devices, so the load is counted somewhere rather than lost."""
    fit = best_fit_devices(gpu, milli, free)
    if fit is not None:
        return fit
    by_room = sorted(range(len(free)), key=lambda i: (-free[i], i))
    return tuple(by_room[: gpu + (1 if milli else 0)])


def valid_devices(devices: Sequence[int], gpu: int, milli: int, count: int) -> bool:
    """Devices read from an annotation: the right number, distinct, on this node."""
    return (
        len(devices) == gpu + (1 if milli else 0)
        and len(set(devices)) == len(devices)
        and all(0 <= d < count for d in devices)
    )


def take(free: list[int], devices: Sequence[int], gpu: int, milli: int) -> None:
    """Count a pod's use of ``devices`` (the first ``gpu`` whole, the last a share)."""
    for i, d in enumerate(devices):
        free[d] -= DEVICE_MILLI if i < gpu else milli


def give_back(free: list[int], devices: Sequence[int], gpu: int, milli: int) -> None:
    for i, d in enumerate(devices):
        free[d] += DEVICE_MILLI if i < gpu else milli
