"""The node search's score bounds (``NodeFinder._ceiling``: groups and classes no better than
what was found are not scored; ``NodeFinder._charge``: a ranked scan stops sooner) against
the same search without them: the same node and devices for every pod, ties included."""

from __future__ import annotations

from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from berth.platform.resources.nodeselectors import parse_term
from berth.platform.resources.taints import EXISTS, PREFER_NO_SCHEDULE, Taint, Toleration
from berth.scheduler.mix import Kind
from berth.scheduler.scoring import FRAGMENTATION_AWARE, PACK, Strategy
from berth.scheduler.search import INF, NodeFinder
from berth.scheduler.snapshot import NodeGroup, Snapshot
from berth.scheduler.views import NodeView, PodRequest

PRODUCT = "nvidia.com/gpu.product"
MODELS = ("A100", "T4")
# cpu, memory, gpus
SHAPES = ((8000, 32, 0), (16000, 64, 0), (16000, 64, 2), (32000, 128, 4), (64000, 256, 8))
SOFT_TAINT = Taint("spot", "", PREFER_NO_SCHEDULE)
TOLERATES_IT = Toleration("spot", EXISTS)


def on_models(*models: str):
    return (
        parse_term(
            {"matchExpressions": [{"key": PRODUCT, "operator": "In", "values": list(models)}]}
        ),
    )


MIX = (
    Kind(2000, 8, 1, 0, 0.35),
    Kind(2000, 8, 0, 250, 0.25),
    Kind(4000, 16, 0, 500, 0.1, affinity=on_models("A100")),
    Kind(4000, 16, 2, 0, 0.2),
    Kind(8000, 32, 8, 0, 0.1),
)


class Straightforward(NodeFinder):
    """The search with no bound: every group and class that fits is scored."""

    def _ceiling(self, pod: PodRequest, group: NodeGroup) -> float:
        return INF

    def _charge(self, pod: PodRequest, group: NodeGroup) -> float:
        return 0.0


node_specs = st.lists(
    st.tuples(st.integers(0, len(SHAPES) - 1), st.sampled_from(MODELS), st.booleans()),
    min_size=1,
    max_size=24,
)
# cpu, memory, gpus, milli-GPUs, models (none: any node), tolerates the soft taint
POD_SHAPES = (
    (4000, 16, 0, 0, (), False),
    (16000, 32, 0, 0, (), False),
    (8000, 64, 0, 0, (), True),
    (2000, 8, 1, 0, (), False),
    (2000, 8, 1, 0, ("A100",), True),
    (4000, 16, 2, 0, ("T4",), False),
    (8000, 32, 8, 0, (), False),
    (2000, 8, 0, 250, (), False),
    (2000, 8, 0, 700, ("A100", "T4"), False),
    (4000, 16, 0, 500, ("A100",), True),
    (0, 0, 0, 100, (), False),
)
# Runs of pods of one shape (as a Job's are), so the caches of a pod class are used.
pod_specs = st.lists(
    st.tuples(
        st.integers(0, len(POD_SHAPES) - 1),
        st.integers(1, 5),  # pods in the run
        st.integers(0, 5),  # 0: the oldest pod placed finishes after each of the run
    ),
    min_size=1,
    max_size=40,
)


# GPU nodes only, and mostly pods without GPUs: such pods scan GPU nodes' classes in order,
# under the model pressure charge (``_charge``) on the A100 nodes.
gpu_node_specs = st.lists(
    st.tuples(st.integers(2, len(SHAPES) - 1), st.sampled_from(MODELS), st.booleans()),
    min_size=1,
    max_size=12,
)
cpu_heavy_specs = st.lists(
    st.tuples(st.sampled_from([0, 0, 1, 1, 2, 3, 7, 10]), st.integers(1, 5), st.integers(0, 5)),
    min_size=1,
    max_size=40,
)


def snapshot(specs) -> Snapshot:
    nodes = []
    for i, (shape, model, tainted) in enumerate(specs):
        cpu, memory, gpu = SHAPES[shape]
        nodes.append(
            NodeView(
                f"n{i}",
                cpu=cpu,
                memory=memory,
                gpu=gpu,
                max_pods=8,
                labels={PRODUCT: model} if gpu else {},
                taints=(SOFT_TAINT,) if tainted else (),
            )
        )
    return Snapshot(nodes)


def pod(i: int, shape: int) -> PodRequest:
    cpu, memory, gpu, milli, models, tolerant = POD_SHAPES[shape]
    return PodRequest(
        "ns",
        f"p{i}",
        f"u{i}",
        cpu=cpu,
        memory=memory,
        gpu=gpu,
        gpu_milli=milli,
        affinity=on_models(*models) if models else None,
        tolerations=(TOLERATES_IT,) if tolerant else (),
    )


def check_same_decisions(strategy: Strategy, nodes, runs) -> None:
    fast_snap, plain_snap = snapshot(nodes), snapshot(nodes)
    fast = NodeFinder(fast_snap, strategy, MIX)
    plain = Straightforward(plain_snap, strategy, MIX)
    placed: list[tuple[PodRequest, str]] = []
    pods = [(shape, finish) for shape, count, finish in runs for _ in range(count)]
    for i, (shape, finish) in enumerate(pods):
        p = pod(i, shape)
        got, want = fast.find(p), plain.find(p)
        assert (got and got.name) == (want and want.name), p
        if got is None or want is None:
            continue
        devices = fast.devices(p, got)
        assert devices == plain.devices(p, want)
        fast_snap.assume(p, got.name, devices)
        plain_snap.assume(p, want.name, devices)
        placed.append((p, got.name))
        if finish == 0:
            done, name = placed.pop(0)
            fast_snap.forget(done, name)
            plain_snap.forget(done, name)


@settings(max_examples=300, deadline=None)
@given(nodes=node_specs, pods=pod_specs, kept=st.sampled_from([1, 2, 32]))
def test_bounds_and_shared_tables_change_no_decision(nodes, pods, kept):
    """Random fleets (CPU nodes, GPU nodes of two models, some softly tainted) and pods
    (with and without GPUs, shares, model constraints, tolerations), some finishing in
    between: the fast search picks exactly the node and devices of the straightforward
    one. Few candidates kept, so the fall backs to a full pass run too."""
    with patch("berth.scheduler.search._CANDIDATES_KEPT", kept):
        for strategy in (FRAGMENTATION_AWARE, PACK):
            check_same_decisions(strategy, nodes, pods)


@settings(max_examples=300, deadline=None)
@given(nodes=gpu_node_specs, pods=cpu_heavy_specs)
def test_pods_without_gpus_on_gpu_nodes_get_the_same_node(nodes, pods):
    """As above, where the ranked scan of GPU nodes' classes for pods without GPUs (and its
    early stop under the model pressure charge) decides most placements."""
    check_same_decisions(FRAGMENTATION_AWARE, nodes, pods)


def test_a_pod_without_gpus_scores_no_gpu_node_while_a_cpu_node_takes_it():
    """A CPU node that fits scores more than a pod without GPUs can score on any GPU node
    (``NodeFinder._ceiling``), so neither the full pass nor the refresh from the log scores
    the GPU nodes' classes for it."""
    nodes = [NodeView(f"c{i}", cpu=64000, memory=256) for i in range(4)]
    nodes += [NodeView(f"g{i}", cpu=64000, memory=256, gpu=8) for i in range(4)]
    snap = Snapshot(nodes)
    finder = NodeFinder(snap, FRAGMENTATION_AWARE, MIX)
    scored: list[tuple[bool, str]] = []  # (a GPU pod?, node scored)
    score = finder.score

    def spy(p, group, key, node, table=None):
        scored.append((p.uses_gpu, node.name))
        return score(p, group, key, node, table)

    with patch.object(finder, "score", spy):
        for i in range(6):
            # GPU pods in between put GPU classes in the log the CPU pods read.
            for p in (
                PodRequest("ns", f"g{i}", f"ug{i}", cpu=2000, memory=8, gpu=1),
                PodRequest("ns", f"c{i}", f"uc{i}", cpu=4000, memory=16),
            ):
                node = finder.find(p)
                assert node is not None and node.name[0] == ("g" if p.gpu else "c")
                snap.assume(p, node.name, finder.devices(p, node))
    assert {name[0] for gpu, name in scored if not gpu} == {"c"}
    assert {name[0] for gpu, name in scored if gpu} == {"g"}
