"""The report of ``bench_e2e``: latencies per stage and per hop, rates, occupancy, CPU,
store writes and profiles, printed from a finished ``BerthRun`` and its raw Ray baselines."""

from __future__ import annotations

import argparse
import math
import os
from typing import TYPE_CHECKING

from benchmarks.e2e_ray import Baseline
from benchmarks.e2e_stats import (
    Summary,
    first_last_rates,
    first_of,
    max_in_flight,
    mean_in_flight,
    place_spans,
    rate,
    rates_per_window,
    ratio,
    stage_table,
    starved_share,
    summarize,
    window_size,
)
from benchmarks.e2e_turnover import turnover_table
from berth.platform.resources import quantity

if TYPE_CHECKING:
    from benchmarks.bench_e2e import BerthRun


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value * 1000:9.1f}"


def _row(label: str, s: Summary) -> str:
    return f"  {label:<46} {_ms(s.p50)} {_ms(s.p99)} {_ms(s.mean)} {_ms(s.max)} {s.n:6d}"


HEADER = f"  {'':<46} {'p50 ms':>9} {'p99 ms':>9} {'mean ms':>9} {'max ms':>9} {'n':>6}"


def _latency(records: list[dict], start: str, *ends: str) -> Summary:
    values = []
    for r in records:
        end = first_of(r, *ends)
        if start in r and end is not None:
            values.append(end - r[start])
    return summarize(values)


def _burst_rate(records: list[dict]) -> tuple[float, float]:
    done = [r for r in records if "complete" in r]
    if not done:
        return math.nan, math.nan
    start, end = min(r["submitted"] for r in records), max(r["complete"] for r in done)
    return rate(len(done), start, end), end - start


def _ray_rate(times) -> float:
    return rate(len(times), min(t.submitted for t in times), max(t.seen for t in times))


def _spans(records: list[dict], start: str, end: str) -> list[tuple[float, float]]:
    return [(r[start], r[end]) for r in records if start in r and end in r]


def _occupancy(records: list[dict], start: str, end: str, window: tuple[float, float]) -> str:
    spans = _spans(records, start, end)
    if not spans:
        return "-"
    return f"mean {mean_in_flight(spans, *window):5.1f}, max {max_in_flight(spans):3d}"


def report(run: BerthRun, baselines: list[Baseline], args: argparse.Namespace) -> None:
    millis = quantity.to_milli(args.cpu)
    store = "PostgreSQL" if args.database == "postgresql" else "SQLite"
    launch = "one Ray task each" if args.ray_task_pods else "the node agent"
    print(
        f"\n== Berth: berth up with workers, {store}, pods of `true` requesting "
        f"cpu {args.cpu}, started by {launch}"
    )
    for name, capacity, allocatable in run.nodes:
        slots = quantity.to_milli(allocatable.get("cpu", "0")) // max(millis, 1)
        print(f"  node {name}: capacity {capacity}; {slots} pods of {args.cpu} fit at once")
    sandbox = {True: "yes (bubblewrap)", False: "NO", None: "unknown"}[run.sandboxed]
    print(f"  pods sandboxed: {sandbox}; watch events received: {run.events}")
    print(HEADER)
    for label, records in (("unloaded", run.solo), ("loaded", run.burst)):
        print(
            _row(
                f"{label}: submit -> Running (seen by watch)",
                _latency(records, "submitted", "started_seen"),
            )
        )
        print(
            _row(
                f"{label}: submit -> container spawn (node)",
                _latency(records, "submitted", "spawned"),
            )
        )
        print(
            _row(
                f"{label}: submit -> Job Complete (seen)",
                _latency(records, "submitted", "complete"),
            )
        )
    jobs_s, span = _burst_rate(run.burst)
    done = sum(1 for r in run.burst if "complete" in r)
    print(
        f"  loaded: {done}/{len(run.burst)} Jobs Complete in {span:.1f} s -> "
        f"{jobs_s:.1f} jobs/s (submitting took {run.submit_s:.1f} s, "
        f"{args.clients} clients)"
    )
    if run.unfinished or run.failed:
        print(f"  NOT finished: {len(run.unfinished)}; failed: {run.failed[:10]}")
    _print_steadiness(run)

    print("\n== Raw Ray tasks (own loopback head, same machine, after Berth stopped)")
    print(HEADER)
    for b in baselines:
        for label, times in (("unloaded", b.solo), ("loaded", b.burst)):
            print(
                _row(
                    f"{b.name} {label}: submit -> task start",
                    summarize([t.started - t.submitted for t in times]),
                )
            )
        print(
            _row(
                f"{b.name} loaded: submit -> result seen",
                summarize([t.seen - t.submitted for t in b.burst]),
            )
        )
        print(f"  {b.name} loaded: {_ray_rate(b.burst):.1f} tasks/s")

    print("\n== Ratios (Berth / raw Ray)")
    berth_solo = _latency(run.solo, "submitted", "started_seen").p50
    berth_spawn = _latency(run.solo, "submitted", "spawned").p50
    for b in baselines:
        ray_solo = summarize([t.started - t.submitted for t in b.solo]).p50
        print(
            f"  vs {b.name}: unloaded p50 submit->Running x{ratio(berth_solo, ray_solo):.0f}"
            f", submit->spawn x{ratio(berth_spawn, ray_solo):.0f}; throughput "
            f"{ratio(jobs_s, _ray_rate(b.burst)):.3f} of Ray's"
        )

    for label, records in (("unloaded", run.solo), ("loaded", run.burst)):
        print(f"\n== Where the time goes, {label}: per hop of Berth's path")
        print(HEADER + "  done by")
        for hop, who, s in stage_table(records):
            print(_row(hop, s) + f"  {who}")
    if run.burst:
        window = (
            min(r["submitted"] for r in run.burst),
            max(r.get("complete", r["submitted"]) for r in run.burst),
        )
        print(
            f"\n== Occupancy during the loaded run (node fits {_slots(run, millis)} pods at once)"
        )
        print(
            f"  pods bound, not yet seen finished (store):       "
            f"{_occupancy(run.burst, 'bound', 'finished_seen', window)}"
        )
        print(
            f"  pods admitted by the agent, not yet exited:      "
            f"{_occupancy(run.burst, 'admitted', 'exited', window)}"
        )
        print(
            f"  containers running (spawn -> exit):              "
            f"{_occupancy(run.burst, 'spawned', 'exited', window)}"
        )
        waiting, holding = place_spans(run.burst)
        starved = starved_share(waiting, holding, _slots(run, millis), *window)
        print(f"  time with pods waiting to be bound and a free place: {starved:.0%}")
        # The scheduler frees a place once the kubelet hears the pod ended, before the
        # store shows it: a place is physically held from the bind to the process's exit.
        held = [
            (start, r["exited"])
            for r in run.burst
            if "exited" in r and (start := first_of(r, "bound", "admitted")) is not None
        ]
        idle = starved_share(
            _spans(run.burst, "pod_created", "bound"), held, _slots(run, millis), *window
        )
        print(f"  ... and a place with no pod process (bind -> exit):  {idle:.0%}")
    _print_turnover(run)
    print(
        f"\n== CPU seconds during the loaded run ({run.cpu.get('(wall seconds)', 0):.1f} s "
        f"wall, {os.cpu_count()} cores)"
    )
    for name, seconds in sorted(run.cpu.items(), key=lambda kv: -kv[1]):
        if name != "(wall seconds)" and seconds >= 0.05:
            print(f"  {seconds:8.2f}  {name}")
    _print_writes(run)
    if run.profile:
        _print_profile(run.profile, "berth up")
    if run.api_profile:
        _print_profile(run.api_profile, "berth up's API process")


def _print_steadiness(run: BerthRun) -> None:
    if not run.burst:
        return
    size = window_size(len(run.burst))
    completions = [r["complete"] for r in run.burst if "complete" in r]
    first, last = first_last_rates(completions, size)
    print(
        f"  loaded: first {size} completions {first:.1f} jobs/s, last {size} {last:.1f} "
        f"jobs/s (last / first = {ratio(last, first):.2f})"
    )
    windows = rates_per_window(completions, size)
    if len(windows) > 2:
        print(
            f"  loaded: jobs/s per {size} completions, in order: "
            + ", ".join(f"{r:.1f}" for r in windows)
        )
    gets = summarize(run.gets)
    print(
        f"  loaded: GET one Job every 100 ms during the run: p50 {_ms(gets.p50).strip()} ms, "
        f"p99 {_ms(gets.p99).strip()} ms, max {_ms(gets.max).strip()} ms ({gets.n} GETs)"
    )


def _print_turnover(run: BerthRun) -> None:
    """One place's turnover, per step (``e2e_turnover``), and berth up's GC pauses."""
    rows = turnover_table(run.burst)
    if not rows[-1][2].n:
        return
    print("\n== Place turnover, per step (loaded: pod A ends, pod B takes its place)")
    print(HEADER + "  done by")
    for step, who, s in rows:
        print(_row(step, s) + f"  {who}")
    window = (min(r["submitted"] for r in run.burst), max(r.get("spawned", 0.0) for r in run.burst))
    takes = [seconds for at, seconds in run.takes if window[0] <= at <= window[1]]
    if takes:
        s = summarize(takes)
        print(
            f"  kubelet status answers taken (told, written): {s.n}, p50 {_ms(s.p50).strip()} "
            f"ms, p99 {_ms(s.p99).strip()} ms; the status thread busy "
            f"{sum(takes) / (window[1] - window[0]):.0%} of the loaded run"
        )
    for generation, pauses in sorted(run.gc_pauses.items()):
        if pauses:
            s = summarize(pauses)
            print(
                f"  berth up GC generation {generation}: {s.n} collections, "
                f"{sum(pauses) * 1000:.0f} ms in all, p50 {_ms(s.p50).strip()} ms, "
                f"max {_ms(s.max).strip()} ms (whole run)"
            )


def _slots(run: BerthRun, millis: int) -> int:
    return sum(quantity.to_milli(a.get("cpu", "0")) // max(millis, 1) for _, _, a in run.nodes)


def _print_writes(run: BerthRun) -> None:
    jobs = run.jobs_total
    total = sum(count for _, _, count, _ in run.writes)
    print(
        f"\n== Store writes in the change log: {total} for {jobs} Jobs "
        f"({total / max(jobs, 1):.1f} per Job)"
    )
    if run.writes_compacted:
        print(
            f"  (the change log was compacted during the run, up to resourceVersion "
            f"{run.writes_compacted}: these counts cover only the writes after it, so the "
            "figures per Job undercount; a run of 1,000 Jobs counts them all)"
        )
    for resource, kind, count, size in run.writes:
        print(
            f"  {count / max(jobs, 1):7.2f} per Job  {resource:<11} {kind:<9} "
            f"{size / max(count, 1) / 1024:6.1f} KiB each"
        )


def _print_profile(profile: dict, name: str) -> None:
    print(
        f"\n== Profile of {name}: {profile['process_cpu_s']:.1f} s CPU in "
        f"{profile['wall_s']:.0f} s (whole run; Python threads below, the rest ran in "
        "threads without Python frames: Ray's core worker)"
    )
    for name, seconds in profile["threads"][:12]:
        print(f"  {seconds:8.2f}  thread {name}")
    print("  -- innermost Berth line on the stack (library time charged to its caller):")
    for where, seconds in profile["berth_lines"][:25]:
        print(f"  {seconds:8.2f}  {where}")
    print("  -- functions, inclusive:")
    for where, seconds in profile["functions"][:25]:
        print(f"  {seconds:8.2f}  {where}")
