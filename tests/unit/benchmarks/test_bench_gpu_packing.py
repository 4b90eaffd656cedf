"""The GPU packing benchmark still runs, and its counts add up."""

from __future__ import annotations

import random
import re

from benchmarks.bench_gpu_packing import _best_fit, ceiling, main, run_baseline, run_berth
from benchmarks.gpu_traces import (
    KINDS,
    VARIANTS,
    gpus_asked,
    make_demand_pods,
    make_nodes,
    make_pods,
    model_terms,
)
from berth.scheduler.types import PodRequest


def test_every_pod_is_placed_or_turned_away_by_kind():
    pods = make_pods(400, random.Random(5), "multi")
    for outcome in (
        run_berth(make_nodes(60, random.Random(5)), pods, 50),
        run_baseline("best-fit", make_nodes(60, random.Random(5)), pods, _best_fit),
    ):
        assert set(outcome.turned_away) <= set(KINDS)
        assert outcome.placed + sum(outcome.turned_away.values()) == len(pods)
        assert outcome.turned_away  # demand is far above capacity in "multi"


def test_main_prints_both_tables_for_each_run(capsys):
    main(["--nodes", "40", "--variants", "base,cpu-heavy"])
    out = capsys.readouterr().out
    assert len(re.findall(r"\(demand/capacity 1\.1[5-9]\)", out)) == 2
    assert out.count("turned away") == 2 and out.count("GPUs alloc") == 2
    for policy in ("berth", "best-fit", "first-fit", "spread", "random"):
        # A row in each of the two tables of each of the two runs.
        assert len(re.findall(rf"^{policy} +\d", out, re.MULTILINE)) == 4
    assert "met both targets on" in out
    assert out.count("ceiling:") == 2


def test_first_seed_picks_the_seeds_run(capsys):
    main(["--nodes", "40", "--variants", "multi", "--seeds", "2", "--first-seed", "6"])
    out = capsys.readouterr().out
    assert re.findall(r"^variant multi, seed (\d+):", out, re.MULTILINE) == ["6", "7"]
    assert "met both targets on" in out and "of 2 runs" in out


def test_the_ceiling_leaves_out_what_no_empty_node_takes_and_bounds_every_policy():
    """A 4-GPU pod pinned to a model that comes only on 1- and 2-GPU nodes fits nowhere;
    no policy places more pods, or allocates more GPUs, than the ceiling."""
    nodes = make_nodes(60, random.Random(5))
    pods = make_pods(300, random.Random(5), "shares")
    most, asked = ceiling(nodes, pods)
    pinned = PodRequest("b", "t4", "t4", cpu=1000, gpu=4, affinity=model_terms(("T4",)))
    assert ceiling(nodes, [*pods, pinned]) == (most, asked)
    outcome = run_berth(make_nodes(60, random.Random(5)), pods, 50)
    assert outcome.placed <= most and outcome.gpus_allocated <= asked + 1e-9


def test_demand_pods_ask_for_the_multiple_of_capacity_on_every_variant():
    """Drawn until the GPUs asked for reach ``demand`` x capacity: the same stream as
    ``make_pods``, stopped at the first pod past the target."""
    nodes = make_nodes(100, random.Random(3))
    capacity = sum(n.alloc_gpu for n in nodes)
    for variant in VARIANTS:
        pods = make_demand_pods(nodes, random.Random(3), variant, 1.15)
        asked = sum(gpus_asked(p) for p in pods)
        assert asked >= 1.15 * capacity > asked - gpus_asked(pods[-1])
        assert pods == make_pods(len(pods), random.Random(3), variant)
