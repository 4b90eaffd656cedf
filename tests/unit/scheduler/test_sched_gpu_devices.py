"""GPU devices: whole GPUs take free devices, shares take room on one device, never two."""

from __future__ import annotations

import pytest

from berth.scheduler.cycle import schedule_batch
from berth.scheduler.devices import best_fit_devices, fits_devices, parse_devices
from berth.scheduler.filters import node_resources_fit, static_rejection
from berth.scheduler.snapshot import Snapshot
from berth.scheduler.types import NodeView, PodRequest, node_view, pod_request
from tests.unit.scheduler.sched_builders import a_node, node_obj, pod_obj


def share(name: str, milli: int, order: float = 0.0, **kwargs) -> PodRequest:
    pod = pod_obj(name, extended={"berth.dev/gpu-milli": str(milli)}, **kwargs)
    return pod_request(pod, order=order)


@pytest.mark.parametrize(
    "gpu, milli, free, want",
    [
        (1, 0, [1000, 1000], (0,)),
        (2, 0, [500, 1000, 1000], (1, 2)),
        (1, 0, [999, 500], None),  # no device entirely free
        (0, 460, [1000, 500], (1,)),  # the fullest device that holds it
        (0, 460, [1000, 400], (0,)),
        (0, 600, [500, 500], None),  # 1000 free in all, but never split
        (0, 1000, [1000], (0,)),
    ],
)
def test_best_fit_devices(gpu, milli, free, want):
    assert best_fit_devices(gpu, milli, free) == want
    assert fits_devices(gpu, milli, free) == (want is not None)


def test_parse_devices_reads_the_annotation_and_ignores_garbage():
    assert parse_devices("0,3") == (0, 3)
    assert parse_devices("x") == () and parse_devices(None) == ()


def test_a_share_is_read_from_the_pod_and_kept_out_of_extended_resources():
    pod = share("s", 460)
    assert pod.gpu_milli == 460 and pod.extended == () and pod.uses_gpu


def test_two_halves_share_a_device_and_a_third_goes_to_the_other():
    snap = Snapshot([a_node("n", cpu="8", gpu=2)])
    decisions = schedule_batch([share(f"h{i}", 500, order=i) for i in range(3)], snap)
    assert [d.node for d in decisions] == ["n", "n", "n"]
    assert decisions[0].devices == decisions[1].devices != decisions[2].devices
    assert sorted(snap.node("n").dev_free) == [0, 500]


def test_a_share_never_spans_devices_and_says_why():
    snap = Snapshot([a_node("n", cpu="8", gpu=2)])
    schedule_batch([share("a", 600, order=0), share("b", 600, order=1)], snap)
    (decision,) = schedule_batch([share("c", 600)], snap)
    assert decision.node is None
    assert "Insufficient berth.dev/gpu-milli" in decision.message
    assert not decision.unresolvable


def test_whole_gpus_do_not_take_a_shared_device():
    snap = Snapshot([a_node("n", cpu="8", gpu=2)])
    schedule_batch([share("a", 100)], snap)
    decisions = schedule_batch([pod_request(pod_obj("w", gpu=2))], snap)
    assert decisions[0].node is None and "Insufficient nvidia.com/gpu" in decisions[0].message


def test_a_share_over_one_device_or_on_a_node_without_gpus_is_unresolvable():
    node = a_node("n", cpu="8", gpu=0)
    assert static_rejection(share("s", 100), node).unresolvable
    node = a_node("g", cpu="8", gpu=1)
    assert static_rejection(share("s", 1500), node).unresolvable


def test_no_device_is_ever_over_committed_under_any_profile():
    for profile in ("binpack", "spread", "fragmentation-aware"):
        snap = Snapshot([a_node(f"n{i}", cpu="64", memory="256Gi", gpu=4) for i in range(3)])
        pods = []
        for i in range(60):
            milli = (130, 250, 500, 700, 1000)[i % 5]
            pods.append(share(f"p{i}", milli, order=i, cpu="100m"))
        for i in range(4):
            pods.append(pod_request(pod_obj(f"w{i}", gpu=2, cpu="100m"), order=100 + i))
        pods = [
            p.__class__(
                **{
                    **{
                        f: getattr(p, f)
                        for f in (
                            "namespace",
                            "name",
                            "uid",
                            "cpu",
                            "memory",
                            "gpu",
                            "extended",
                            "node_selector",
                            "affinity",
                            "tolerations",
                            "priority",
                            "order",
                            "gpu_milli",
                        )
                    },
                    "scheduler": profile,
                }
            )
            for p in pods
        ]
        decisions = schedule_batch(pods, snap)
        used = {}
        by_uid = {p.uid: p for p in pods}
        for d in decisions:
            if d.node is None:
                continue
            pod = by_uid[d.uid]
            for i, device in enumerate(d.devices):
                amount = 1000 if i < pod.gpu else pod.gpu_milli
                used[(d.node, device)] = used.get((d.node, device), 0) + amount
        assert used and max(used.values()) <= 1000, profile
        for node in snap:
            assert min(node.dev_free) >= 0


def test_a_bound_pod_counts_on_the_devices_its_annotation_names():
    pod = pod_obj("b", extended={"berth.dev/gpu-milli": "300"})
    pod["metadata"]["annotations"] = {"berth.dev/gpu-devices": "1"}
    pod["spec"]["nodeName"] = "n"
    view = node_view(node_obj("n", gpu=2), [pod])
    assert view.dev_free == [1000, 700]


def test_removing_a_pod_gives_its_devices_back():
    node = NodeView("n", cpu=8000, memory=8, gpu=2)
    pod = PodRequest("d", "p", "u1", gpu_milli=400)
    devices = node.add(pod)
    assert node.dev_free[devices[0]] == 600
    node.remove(pod)
    assert node.dev_free == [1000, 1000] and node_resources_fit(pod, node) is None
