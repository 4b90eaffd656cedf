"""Completion-index sets in the compressed text form of ``status.completedIndexes``.

``compress([0, 1, 2, 3, 5])`` is ``"0-3,5"``. Like Kubernetes, a run of exactly two indexes is
written as a pair (``"0,1"``), and a run of three or more as a range (``"0-2"``).
"""

from __future__ import annotations

from collections.abc import Iterable


def compress(indexes: Iterable[int]) -> str:
    parts: list[str] = []
    ordered = sorted(set(indexes))
    start = 0
    while start < len(ordered):
        end = start
        while end + 1 < len(ordered) and ordered[end + 1] == ordered[end] + 1:
            end += 1
        first, last = ordered[start], ordered[end]
        if last == first:
            parts.append(str(first))
        elif last == first + 1:
            parts.append(f"{first},{last}")
        else:
            parts.append(f"{first}-{last}")
        start = end + 1
    return ",".join(parts)


def parse(text: str | None, completions: int | None = None) -> set[int]:
    """The indexes named by ``text``, each below ``completions`` when that is given.

    Like Kubernetes ``parseIndexesFromString``, a malformed interval is skipped rather than
    failing the whole set: a corrupted status must not stop the controller.
    """
    result: set[int] = set()
    for interval in (text or "").split(","):
        bounds = interval.strip().split("-")
        try:
            first = int(bounds[0])
            last = int(bounds[1]) if len(bounds) > 1 else first
        except ValueError:
            continue
        if len(bounds) > 2 or first < 0 or last < first:
            continue
        if completions is not None:
            last = min(last, completions - 1)
        result.update(range(first, last + 1))
    return result
