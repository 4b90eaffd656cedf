"""The scheduler benchmark still runs, and on a small trace packs as it claims."""

from __future__ import annotations

import random

from benchmarks.bench_scheduler import main, run_berth, run_first_fit
from benchmarks.sched_traces import homogeneous_pods, preloaded_nodes
from berth.scheduler.scoring import PACK, SPREAD


def test_main_prints_a_table_for_each_trace(capsys):
    main(
        [
            "--nodes",
            "60",
            "--pods",
            "600",
            "--gpu-pods",
            "300",
            "--homogeneous-nodes",
            "30",
            "--homogeneous-pods",
            "200",
        ]
    )
    out = capsys.readouterr().out
    assert out.count("placed/s") >= 5 and "GPU sharing trace" in out
    for name in ("pack", "spread", "frag-aware", "first-fit"):
        assert out.count(f"\n{name} ") == 4


def test_pack_uses_fewer_nodes_than_first_fit_and_spread_on_a_busy_cluster():
    pods = homogeneous_pods(1200, random.Random(3))
    nodes = lambda: preloaded_nodes(200, random.Random(4))  # noqa: E731
    pack = run_berth("pack", nodes(), pods, PACK)
    spread = run_berth("spread", nodes(), pods, SPREAD)
    first_fit = run_first_fit(nodes(), pods)
    assert pack.failed == 0
    assert pack.nodes_used <= 1.05 * pack.lower_bound
    assert pack.nodes_used < first_fit.nodes_used
    assert pack.nodes_used < spread.nodes_used
