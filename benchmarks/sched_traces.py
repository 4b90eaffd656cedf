"""The scheduler benchmark's generated traces (``bench_scheduler``): the mixed fleet of four
node shapes with Jobs of mixed CPU/memory/GPU pods, and the homogeneous 8-GPU fleet, empty
or preloaded. Seeded by the caller's ``random.Random``; pure data, no scheduling here."""

from __future__ import annotations

import random

from berth.platform.resources.taints import Taint, Toleration
from berth.scheduler.types import NodeView, PodRequest

GI = 2**30
MI = 2**20
ZONES = ("zone-a", "zone-b", "zone-c")
GPU_TAINT = Taint("nvidia.com/gpu", "present", "NoSchedule")
GPU_TOLERATION = Toleration("nvidia.com/gpu", "Exists", "", "NoSchedule")

# name, count share, cpu cores, memory GiB, gpus, product
MIXED_NODE_SHAPES = (
    ("cpu-32", 0.40, 32, 128, 0, ""),
    ("cpu-64", 0.30, 64, 256, 0, ""),
    ("gpu-8", 0.20, 96, 768, 8, "H100"),
    ("gpu-4", 0.10, 48, 384, 4, "A100"),
)
# cpu millicores, memory MiB, gpus; weights
CPU_POD_SHAPES = (
    (250, 512),
    (500, 1024),
    (1000, 2048),
    (2000, 4096),
    (2000, 8192),
    (4000, 8192),
    (4000, 16384),
    (8000, 32768),
    (16000, 65536),
)
CPU_POD_WEIGHTS = (10, 14, 16, 14, 10, 10, 8, 6, 3)
GPU_POD_SHAPES = ((1, 8000, 65536), (2, 16000, 131072), (4, 32000, 262144), (8, 64000, 524288))
GPU_POD_WEIGHTS = (50, 25, 15, 10)
JOB_SIZES = (1, 2, 5, 10, 25, 50, 100, 250)
JOB_SIZE_WEIGHTS = (20, 10, 15, 15, 12, 10, 10, 8)


# ---- traces ---------------------------------------------------------------------------


def mixed_nodes(count: int) -> list[NodeView]:
    nodes = []
    for shape, share, cpu, mem, gpu, product in MIXED_NODE_SHAPES:
        for i in range(round(count * share)):
            labels = {
                "node.kubernetes.io/instance-type": shape,
                "topology.kubernetes.io/zone": ZONES[i % len(ZONES)],
            }
            if gpu:
                labels["nvidia.com/gpu.product"] = product
            nodes.append(
                NodeView(
                    f"{shape}-{i}",
                    cpu=cpu * 1000,
                    memory=mem * GI,
                    gpu=gpu,
                    max_pods=110,
                    labels=labels,
                    taints=(GPU_TAINT,) if gpu else (),
                )
            )
    return nodes


def mixed_pods(count: int, rng: random.Random, gpu_share: float = 0.07) -> list[PodRequest]:
    pods: list[PodRequest] = []
    job = 0
    while len(pods) < count:
        job += 1
        size = min(rng.choices(JOB_SIZES, JOB_SIZE_WEIGHTS)[0], count - len(pods))
        selector: tuple = ()
        tolerations: tuple = ()
        gpu = 0
        if rng.random() < gpu_share:
            gpu, cpu, mem = rng.choices(GPU_POD_SHAPES, GPU_POD_WEIGHTS)[0]
            tolerations = (GPU_TOLERATION,)
            if rng.random() < 0.3:
                selector = (("nvidia.com/gpu.product", rng.choice(("H100", "A100"))),)
        else:
            cpu, mem = rng.choices(CPU_POD_SHAPES, CPU_POD_WEIGHTS)[0]
            if rng.random() < 0.2:
                selector = (("topology.kubernetes.io/zone", rng.choice(ZONES)),)
        if rng.random() < 0.002:  # never fits anywhere: more GPUs than any node has
            gpu, tolerations = 16, (GPU_TOLERATION,)
        priority = 1000 if rng.random() < 0.1 else 0
        for i in range(size):
            n = len(pods)
            pods.append(
                PodRequest(
                    "bench",
                    f"job{job}-{i}",
                    f"uid-{n}",
                    cpu=cpu,
                    memory=mem * MI,
                    gpu=gpu,
                    node_selector=selector,
                    tolerations=tolerations,
                    priority=priority,
                    order=n,
                )
            )
    return pods


def homogeneous_nodes(count: int) -> list[NodeView]:
    return [
        NodeView(f"node-{i}", cpu=64_000, memory=256 * GI, gpu=8, max_pods=110)
        for i in range(count)
    ]


def preloaded_nodes(count: int, rng: random.Random, share: float = 0.4) -> list[NodeView]:
    """Homogeneous nodes, ``share`` of them already running 1-7 GPU pods and a few CPU pods."""
    nodes = homogeneous_nodes(count)
    for node in nodes:
        if rng.random() < share:
            gpus = rng.randint(1, 7)
            node.add(
                PodRequest("running", "gpu", "", cpu=gpus * 6000, memory=gpus * 24 * GI, gpu=gpus)
            )
            for _ in range(rng.randint(0, 3)):
                node.add(PodRequest("running", "cpu", "", cpu=2000, memory=8 * GI))
    return nodes


def homogeneous_pods(count: int, rng: random.Random) -> list[PodRequest]:
    """Pods shaped for 64-core/256 GiB/8-GPU nodes: GPU pods bring 6 cores, 24 GiB per GPU."""
    pods: list[PodRequest] = []
    while len(pods) < count:
        size = min(rng.choices(JOB_SIZES, JOB_SIZE_WEIGHTS)[0], count - len(pods))
        if rng.random() < 0.25:
            gpu = rng.choices((1, 2, 4, 8), GPU_POD_WEIGHTS)[0]
            cpu, mem = gpu * 6000, gpu * 24 * 1024
        else:
            gpu = 0
            cpu, mem = rng.choices(CPU_POD_SHAPES[:-1], CPU_POD_WEIGHTS[:-1])[0]
        for _ in range(size):
            n = len(pods)
            pods.append(
                PodRequest("bench", f"p{n}", f"uid-{n}", cpu=cpu, memory=mem * MI, gpu=gpu, order=n)
            )
    return pods
