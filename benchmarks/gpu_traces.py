"""The GPU packing traces: a production-shaped heterogeneous fleet and its arrivals, seeded.

A fleet as in the FGD paper's Alibaba trace: nodes with 0, 1, 2, 4 and 8 GPUs of several
models; arrivals mostly one GPU or a share of one, a few 2/4/8-GPU jobs, CPU-only pods, a
quarter of the GPU pods pinned to one or two GPU models. Variants reweight the mix: base,
shares (sharing-heavy), multi (more 4- and 8-GPU jobs), cpu-heavy (three times the CPU-only
pods, which spill onto GPU nodes).

``make_pods`` draws a fixed number of pods; ``make_demand_pods`` draws the same stream until
the GPUs asked for reach a multiple of the fleet's GPU capacity (demand above capacity, so
that policies differ in what they fit). Both are deterministic for a given ``Random``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from berth.platform.resources.gpus import DEVICE_MILLI
from berth.platform.resources.nodeselectors import parse_term
from berth.scheduler.types import NodeView, PodRequest

GI = 2**30
PRODUCT = "nvidia.com/gpu.product"
MODELS = ("A100", "V100", "T4", "H100")

# gpus, share of nodes, cores, memory GiB, models it comes in
NODE_SHAPES = (
    (0, 0.08, 64, 256, ()),
    (0, 0.04, 96, 384, ()),
    (1, 0.12, 16, 64, ("T4", "V100")),
    (2, 0.18, 32, 128, ("T4", "V100", "A100")),
    (4, 0.26, 64, 256, ("V100", "A100")),
    (8, 0.32, 96, 512, ("A100", "V100", "H100")),
)

# Request mixes: (name, weight, gpu, milli choices, cores, memory GiB)
BASE_MIX = (
    ("cpu", 22, 0, (), (2, 4, 8, 16, 32), (4, 8, 32, 64, 128)),
    ("share", 38, 0, (100, 250, 300, 500, 700), (2, 4, 6), (8, 16, 24)),
    ("1-gpu", 30, 1, (), (6, 8, 12), (24, 32, 48)),
    ("2-gpu", 5, 2, (), (12, 16, 24), (48, 64, 96)),
    ("4-gpu", 3, 4, (), (24, 32, 48), (96, 128, 192)),
    ("8-gpu", 2, 8, (), (48, 64, 80), (192, 256, 384)),
)
KINDS = ("cpu", "share", "1-gpu", "2-gpu", "4-gpu", "8-gpu")
VARIANTS: dict[str, dict[str, float]] = {
    "base": {},
    "shares": {"share": 2.0, "1-gpu": 0.6},  # sharing-heavy
    "multi": {"4-gpu": 2.0, "8-gpu": 2.5, "share": 0.6},  # big jobs
    "cpu-heavy": {"cpu": 3.0},  # CPU pods crowd GPU nodes
}


def make_nodes(count: int, rng: random.Random) -> list[NodeView]:
    nodes = []
    for gpus, share, cores, mem, models in NODE_SHAPES:
        for i in range(round(count * share)):
            labels = {"node.kubernetes.io/instance-type": f"gpu-{gpus}"}
            if gpus:
                labels[PRODUCT] = rng.choice(models)
            nodes.append(
                NodeView(
                    f"g{gpus}-{i}",
                    cpu=cores * 1000,
                    memory=mem * GI,
                    gpu=gpus,
                    max_pods=110,
                    labels=labels,
                )
            )
    rng.shuffle(nodes)  # first-fit's order, and the snapshot's: no shape comes first
    return nodes


def _pod_stream(rng: random.Random, variant: str) -> Iterator[PodRequest]:
    scale = VARIANTS[variant]
    mix = [(row, row[1] * scale.get(row[0], 1.0)) for row in BASE_MIX]
    n = -1
    while True:
        n += 1
        name, _, gpu, millis, cores, mems = rng.choices([r for r, _ in mix], [w for _, w in mix])[0]
        milli = rng.choice(millis) if millis else 0
        affinity = None
        if (gpu or milli) and rng.random() < 0.25:
            wanted = tuple(sorted(rng.sample(MODELS, rng.choice((1, 2)))))
            affinity = wanted
        pod = PodRequest(
            "bench",
            f"{name}-{n}",
            f"uid-{n}",
            cpu=rng.choice(cores) * 1000,
            memory=rng.choice(mems) * GI,
            gpu=gpu,
            gpu_milli=milli,
            order=n,
            node_selector=(),
            affinity=model_terms(affinity),
        )
        yield pod


def make_pods(count: int, rng: random.Random, variant: str) -> list[PodRequest]:
    """``count`` arrivals of ``variant``'s mix."""
    stream = _pod_stream(rng, variant)
    return [next(stream) for _ in range(count)]


def make_demand_pods(
    nodes: list[NodeView], rng: random.Random, variant: str, demand: float
) -> list[PodRequest]:
    """Arrivals of ``variant``'s mix (the same stream as ``make_pods``) until the GPUs they
    ask for (whole and shares) reach ``demand`` times the GPUs of ``nodes``."""
    target = demand * sum(n.alloc_gpu for n in nodes)
    pods: list[PodRequest] = []
    asked = 0.0
    for pod in _pod_stream(rng, variant):
        if asked >= target:
            break
        pods.append(pod)
        asked += gpus_asked(pod)
    return pods


def gpus_asked(pod: PodRequest) -> float:
    return pod.gpu + pod.gpu_milli / DEVICE_MILLI


def model_terms(models: tuple[str, ...] | None):
    if models is None:
        return None
    return (
        parse_term(
            {"matchExpressions": [{"key": PRODUCT, "operator": "In", "values": list(models)}]}
        ),
    )
