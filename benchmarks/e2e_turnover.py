"""How fast a node's places turn over: from one pod's end to the next pod's start in the place
it freed, step by step. Pure: records in, table out.

A record is a pod's stages (wall-clock seconds): the agent's ``exited``, ``admitted`` and
``spawned`` (``e2e_stats.node_stamps``) and ``berth up``'s own trace points (``e2e_trace``).
Places have no identity, so ends are paired with placements in order: each placement takes
the place of the earliest end the scheduler had applied (``freed``) before it and that no
earlier placement took; a placement with no such end took a place that was free already (the
first ones of a burst) and is left out. In a burst on one full node that is the place's
successor.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence

from benchmarks.e2e_stats import Summary, summarize

# (stage, of which pod: "A" the pod that ended, "B" the one placed in its place, who does it)
STEPS = (
    ("exited", "A", "agent: container exits, output drained"),
    ("heard_end", "A", "agent answers long poll -> kubelet status thread"),
    ("freed", "A", "scheduler thread applies the end"),
    ("placed", "B", "scheduling cycle picks the next pod"),
    ("bind_committed", "B", "bind group commit"),
    ("kubelet_saw", "B", "change feed -> kubelet's informer"),
    ("sent", "B", "kubelet sync thread -> agent.update"),
    ("admitted", "B", "Ray actor call -> agent admits"),
    ("spawned", "B", "agent thread forks the sandbox"),
)


def pair_places(records: Sequence[Mapping[str, float]]) -> list[tuple[Mapping, Mapping]]:
    """(ended pod, next pod in its place) pairs, as the module's docstring says."""
    ends = sorted((r for r in records if "freed" in r), key=lambda r: r["freed"])
    placements = sorted((r for r in records if "placed" in r), key=lambda r: r["placed"])
    free: deque[Mapping] = deque()
    pairs = []
    i = 0
    for b in placements:
        while i < len(ends) and ends[i]["freed"] <= b["placed"]:
            free.append(ends[i])
            i += 1
        if free:
            a = free.popleft()
            if "pod_created" in b and b["pod_created"] < a["freed"]:
                pairs.append((a, b))
    return pairs


def turnover_table(
    records: Sequence[Mapping[str, float]],
) -> list[tuple[str, str, Summary]]:
    """For each step of ``STEPS`` after the first: (step, who does it, its durations over
    the pairs that have both stamps), then the whole turnover (exited -> spawned)."""
    pairs = pair_places(records)
    rows = []
    for (a, pa, _), (b, pb, who) in zip(STEPS, STEPS[1:], strict=False):
        values = [
            y[b] - x[a]
            for x, y in ((p if pa == "A" else q, p if pb == "A" else q) for p, q in pairs)
            if a in x and b in y
        ]
        rows.append((f"{a} -> {b}", who, summarize(values)))
    whole = [q["spawned"] - p["exited"] for p, q in pairs if "exited" in p and "spawned" in q]
    rows.append(("exited -> next spawned", "one place's turnover", summarize(whole)))
    return rows
