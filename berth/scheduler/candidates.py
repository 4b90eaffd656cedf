"""The candidate cache of the node search (``search.py``): what the last full pass found for
one pod class, brought up to date by reading the snapshot's log tail.

A full pass that scored every class keeps the best classes (``Candidates.entries``) and the
score every other class stays under (``floor``). Later pods of the class read only the log
past ``pos``: classes that gained a node since can beat the cached answer, classes that lost
nodes cannot get better. When the best class has emptied, the best live entry is what a
new pass would find if it beats ``floor`` alone; otherwise (or on a tie) ``refresh`` gives
None and the caller runs a full pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import compress
from operator import itemgetter

from berth.scheduler.filters import node_resources_fit
from berth.scheduler.snapshot import NodeGroup
from berth.scheduler.views import NodeView, PodRequest

NONE = float("-inf")
_MEMBERS = itemgetter(2)  # of a log entry
# How many live candidates are worth carrying before a full pass is cheaper.
CANDIDATES_LIMIT = 256

# (group, free class, a node of it, the pod class's score table on the group) -> score
ScoreFn = Callable[[NodeGroup, tuple, NodeView, dict[tuple, float]], float]


class Best:
    __slots__ = ("group", "key", "score")

    def __init__(self, group: NodeGroup, key: tuple, score: float) -> None:
        self.group, self.key, self.score = group, key, score


class Candidates:
    """What the last full pass found for one pod class, kept up to date from the log.

    ``entries``: classes that fit, in the order a full pass meets them; ``floor``: every
    class that fits, is live and is not among ``entries`` scores at most this, unless the
    log past ``pos`` names it. So the best live entry is the best class while it scores at
    least ``floor``, and a placement that empties the best class (a node of its own, as
    fragmentation-aware placements often are) falls back to the next entry instead of a
    full pass."""

    __slots__ = ("entries", "floor", "pos", "last")

    def __init__(self, entries: list[Best], floor: float, pos: int, last: Best) -> None:
        self.entries, self.floor, self.pos, self.last = entries, floor, pos, last


def refresh(
    cached: Candidates,
    log: Sequence[tuple[NodeGroup, tuple, dict[str, NodeView]]],
    pod: PodRequest,
    gids: frozenset[int],
    tables: dict[int, dict[tuple, float]],
    score_of: ScoreFn,
    ceilings: dict[int, float] | None = None,
) -> Best | None:
    """The best class from the cached candidates and the log tail, or None if that can't
    be told without a full pass. ``tables``: the pod class's score tables by group id;
    ``score_of`` scores a class missing from them (and records it).

    ``ceilings``: group id -> a score no class of that group can exceed for this pod, where
    one is known. Those groups' classes in the tail are looked at after the others, and
    not scored when their ceiling is under ``floor`` (they would not be kept) and under a
    score that beats them anyway (the last answer's, or the best of the tail's): they
    could change nothing. Ties still go to the class earlier in the log."""
    floor = cached.floor
    entries = cached.entries
    found: Best | None = None
    found_score = NONE
    found_at = -1
    deferred: list[tuple[int, NodeGroup, tuple, dict[str, NodeView]]] = []
    cpu, memory, gpu, milli = pod.cpu, pod.memory, pod.gpu, pod.gpu_milli
    start, end = cached.pos, len(log)
    # The live entries' positions, picked out in C: most of a tail is classes no longer live
    # (their members empty, ``Snapshot.log``).
    for at in compress(range(start, end), map(_MEMBERS, log[start:end])):
        group, key, members = log[at]
        # Does the class fit? Inline: this loop is the hot path.
        if key[0] < cpu or key[1] < memory or key[2] < gpu or not key[3]:
            continue
        if milli and (not key[5] or key[5][-1] < milli):
            continue
        if group.gid not in gids:
            continue
        if ceilings and group.gid in ceilings:
            deferred.append((at, group, key, members))
            continue
        # What ``_score`` does, inline.
        if pod.extended and node_resources_fit(pod, next(iter(members.values()))):
            continue
        table = tables.get(group.gid)
        if table is None:
            table = tables[group.gid] = {}
        score = table.get(key)
        if score is None:
            score = score_of(group, key, next(iter(members.values())), table)
        if score > found_score:
            found, found_score, found_at = Best(group, key, score), score, at
            if score >= floor:
                entries.append(found)
        elif score >= floor:
            entries.append(Best(group, key, score))
    if deferred:
        # Under the last answer's score a class is never the answer: the last answer wins
        # while it is live, and a new class must score at least as much to replace it.
        beaten = cached.last.score
        for at, group, key, members in deferred:
            ceiling = ceilings[group.gid] if ceilings else NONE
            if ceiling < floor and ceiling < max(beaten, found_score):
                continue
            score = _score(group, key, members, pod, tables, score_of)
            if score is None:
                continue
            entry = Best(group, key, score)
            if score > found_score or (score == found_score and at < found_at):
                found, found_score, found_at = entry, score, at
            if score >= floor:
                entries.append(entry)
    cached.pos = end
    # The last answer, while it lasts and nothing new beats it; else the best new one.
    last = cached.last
    if last.key in last.group.classes and last.score >= found_score:
        return last
    if found is not None and found_score >= last.score:
        cached.last = found
        return found
    # Else the best that is left of the candidates, when it beats every other class:
    # then it is what a full pass would find (a tie goes to the pass, whose order
    # breaks it).
    best: Best | None = None
    best_score = NONE
    tied = False
    live: list[Best] = []
    for entry in entries:
        if entry.key in entry.group.classes:
            live.append(entry)
            if entry.score > best_score:
                best, best_score, tied = entry, entry.score, False
            elif entry.score == best_score and best is not None:
                tied = tied or entry.key != best.key or entry.group is not best.group
    if best is None or tied or best_score <= floor or len(live) > CANDIDATES_LIMIT:
        return None
    cached.entries = live
    cached.last = best
    return best


def _score(
    group: NodeGroup,
    key: tuple,
    members: dict[str, NodeView],
    pod: PodRequest,
    tables: dict[int, dict[tuple, float]],
    score_of: ScoreFn,
) -> float | None:
    """The pod class's score on a live class of the log tail (``members``: its nodes); None
    when the pod's extended resources do not fit it."""
    if pod.extended and node_resources_fit(pod, next(iter(members.values()))):
        return None
    table = tables.get(group.gid)
    if table is None:
        table = tables[group.gid] = {}
    score = table.get(key)
    if score is None:
        score = score_of(group, key, next(iter(members.values())), table)
    return score


def better(
    best: Best | None, best_score: float, group: NodeGroup, key: tuple, score: float
) -> tuple[Best | None, float]:
    """Keep the higher score; on a tie, the less loaded group."""
    if score > best_score or (
        score == best_score and best is not None and group.load < best.group.load
    ):
        return Best(group, key, score), score
    return best, best_score
