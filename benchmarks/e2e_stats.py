"""Pure helpers of the end-to-end benchmark: percentiles, rates, per-job stage stamps taken
from watch events and node files, and how full the node was kept. No I/O, no clock.

A job's record is a dict of stage name -> wall-clock time (seconds since the epoch, this
host's clock); a stage is absent until it is seen. ``STAGES`` lists the hops of Berth's path in
order, each with the part of Berth that does it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

STARTED_PHASES = frozenset({"Running", "Succeeded", "Failed"})
FINISHED_PHASES = frozenset({"Succeeded", "Failed"})

# (from stage, to stage, who does the hop); every stage but the first is the end of one hop.
STAGES = (
    ("submitted", "accepted", "API: POST /jobs answered"),
    ("accepted", "pod_created", "job controller creates the pod"),
    ("pod_created", "bound", "scheduler binds the pod"),
    ("bound", "admitted", "kubelet sync sends it; agent admits"),
    ("admitted", "spawned", "Ray runs the pod task; runner spawns"),
    ("spawned", "exited", "the container (bwrap + true) runs"),
    ("exited", "finished_seen", "agent -> status poll -> store"),
    ("finished_seen", "complete", "job controller marks Complete"),
)


@dataclass(frozen=True)
class Summary:
    n: int
    p50: float
    p99: float
    mean: float
    max: float


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation between the closest ranks
    (numpy's default); NaN for no values."""
    data = sorted(values)
    if not data:
        return math.nan
    position = (len(data) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (position - low)


def summarize(values: Sequence[float]) -> Summary:
    if not values:
        return Summary(0, math.nan, math.nan, math.nan, math.nan)
    return Summary(
        len(values),
        percentile(values, 50),
        percentile(values, 99),
        sum(values) / len(values),
        max(values),
    )


def rate(count: int, start: float, end: float) -> float:
    """Events per second over ``[start, end]``; NaN for an empty or reversed window."""
    return count / (end - start) if end > start else math.nan


def ratio(a: float, b: float) -> float:
    return a / b if b and not math.isnan(a) and not math.isnan(b) else math.nan


def deltas(records: Iterable[Mapping[str, float]], start: str, end: str) -> list[float]:
    """``end - start`` of every record that has both stages."""
    return [r[end] - r[start] for r in records if start in r and end in r]


def first_of(record: Mapping[str, float], *stages: str) -> float | None:
    """The earliest of the stages the record has (None if it has none of them)."""
    seen = [record[s] for s in stages if s in record]
    return min(seen) if seen else None


# ---- stamps from watch events ---------------------------------------------------------------


def note_pod(record: dict[str, float], pod: dict, now: float) -> None:
    """Record the first time each stage of a pod is seen, from one watch event at ``now``.

    A pod of ``true`` often goes from Pending straight to Succeeded in the store (it exits
    between two status polls), so "started" is the first of Running or a terminal phase."""
    record.setdefault("pod_created", now)
    if (pod.get("spec") or {}).get("nodeName"):
        record.setdefault("bound", now)
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Running":
        record.setdefault("running_seen", now)
    if phase in STARTED_PHASES:
        record.setdefault("started_seen", now)
    if phase in FINISHED_PHASES:
        record.setdefault("finished_seen", now)


def job_outcome(job: dict) -> str | None:
    """ "Complete" or "Failed" once the Job has that condition set to True, else None."""
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("type") in ("Complete", "Failed") and condition.get("status") == "True":
            return condition["type"]
    return None


# ---- stamps from the node's files -----------------------------------------------------------


def parse_stat(text: str) -> dict[str, tuple[float, float]]:
    """``stat -c '%n|%.9W|%.9Y'`` output: path -> (birth time, modification time)."""
    out = {}
    for line in text.splitlines():
        path, _, rest = line.rpartition("|")
        path, _, birth = path.rpartition("|")
        if path:
            out[path] = (float(birth), float(rest))
    return out


def node_stamps(stats: Mapping[str, tuple[float, float]]) -> dict[str, dict[str, float]]:
    """Per pod uid, the times the agent left in the node's directory (birth times, written
    once each, so later writes do not move them):

    * ``<node>/pods/<uid>``: made when the agent admitted the pod (its first saved status);
    * ``<node>/pods/<uid>/termination/<container>-0``: written just before the spawn;
    * ``<node>/logs/<uid>/<container>/0.done``: written once the container's output is
      drained after it exited.
    """
    out: dict[str, dict[str, float]] = {}
    for path, (birth, _) in stats.items():
        parts = PurePosixPath(path).parts
        if len(parts) >= 3 and parts[-2] == "pods":
            out.setdefault(parts[-1], {})["admitted"] = birth
        elif len(parts) >= 4 and parts[-2] == "termination" and parts[-1].endswith("-0"):
            _earliest(out.setdefault(parts[-3], {}), "spawned", birth)
        elif len(parts) >= 4 and parts[-1] == "0.done" and parts[-4] == "logs":
            _earliest(out.setdefault(parts[-3], {}), "exited", birth)
    return out


def _earliest(record: dict[str, float], stage: str, value: float) -> None:
    record[stage] = min(value, record.get(stage, value))


# ---- how full the node was kept -------------------------------------------------------------


def mean_in_flight(intervals: Iterable[tuple[float, float]], start: float, end: float) -> float:
    """Time-weighted mean number of intervals open over ``[start, end]``."""
    if end <= start:
        return math.nan
    total = sum(max(0.0, min(b, end) - max(a, start)) for a, b in intervals)
    return total / (end - start)


def max_in_flight(intervals: Iterable[tuple[float, float]]) -> int:
    """Most intervals open at once (an interval ending at t is closed before one starting
    at t opens)."""
    edges = sorted(
        [(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals], key=lambda e: (e[0], e[1])
    )
    most = now = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


def starved_share(
    waiting: Iterable[tuple[float, float]],
    holding: Iterable[tuple[float, float]],
    slots: int,
    start: float,
    end: float,
) -> float:
    """Share of ``[start, end]`` during which some pod was waiting (a ``waiting`` interval
    open) while fewer than ``slots`` pods held a place (``holding`` intervals open): time a
    scheduler left capacity idle with work queued."""
    if end <= start:
        return math.nan
    edges = sorted(
        [(a, 0, 1) for a, _ in waiting]
        + [(b, 0, -1) for _, b in waiting]
        + [(a, 1, 1) for a, _ in holding]
        + [(b, 1, -1) for _, b in holding]
    )
    counts = [0, 0]
    starved = 0.0
    previous = start
    for when, kind, step in edges:
        now = min(max(when, start), end)
        if counts[0] > 0 and counts[1] < slots:
            starved += now - previous
        previous = now
        counts[kind] += step
    if counts[0] > 0 and counts[1] < slots:
        starved += end - previous
    return starved / (end - start)


def place_spans(
    records: Iterable[Mapping[str, float]],
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """For ``starved_share``: each pod waits from ``pod_created`` until it has a place, and
    holds it until ``finished_seen``. It has the place from the earlier of ``bound`` (the
    watch seeing ``spec.nodeName``) and ``admitted`` (the agent's own stamp): the watch often
    shows the binding after the agent has already admitted the pod, and counting that lag as
    waiting with a free place charged the scheduler for the watch's delay."""
    waiting, holding = [], []
    for r in records:
        placed = first_of(r, "bound", "admitted")
        if placed is None:
            continue
        if "pod_created" in r:
            waiting.append((r["pod_created"], placed))
        if "finished_seen" in r:
            holding.append((placed, r["finished_seen"]))
    return waiting, holding


def stage_table(records: Sequence[Mapping[str, float]]) -> list[tuple[str, str, Summary]]:
    """For each hop of ``STAGES``: (hop name, who does it, summary of its durations)."""
    return [(f"{a} -> {b}", who, summarize(deltas(records, a, b))) for a, b, who in STAGES]


# ---- no slowdown over a long run ------------------------------------------------------------


def window_size(jobs: int) -> int:
    """How many completions each end of a run is measured over: 1,000 (the issue's window)
    when the run has at least two of those, else a fifth of the run (at least one)."""
    return 1000 if jobs >= 2000 else max(jobs // 5, 1)


def first_last_rates(completions: Sequence[float], size: int) -> tuple[float, float]:
    """Completions per second within the first ``size`` completions and within the last
    ``size`` ((size - 1) gaps over the time from the window's first completion to its last;
    the pipeline's fill time before the first completion is not counted). NaN when the run has
    fewer than ``size + 1`` completions."""
    done = sorted(completions)
    if size < 2 or len(done) <= size:
        return math.nan, math.nan
    return rate(size - 1, done[0], done[size - 1]), rate(size - 1, done[-size], done[-1])


def rates_per_window(completions: Sequence[float], size: int) -> list[float]:
    """Completions per second within each run of ``size`` consecutive completions (the first
    ``size``, the next ``size`` ...; a last, shorter run is left out), measured as
    ``first_last_rates`` measures its two windows."""
    done = sorted(completions)
    return [
        rate(size - 1, done[i], done[i + size - 1])
        for i in range(0, len(done) - size + 1, size)
        if size >= 2
    ]
