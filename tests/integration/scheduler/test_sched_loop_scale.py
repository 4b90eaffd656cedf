"""Scale: 2,000 simulated nodes and 10,000 pods created through the client all end up bound
and Running, with no node over-committed, while the store keeps answering reads.

Throughput and the slowest GET are printed, not asserted (the machine is shared; timings belong
in benchmarks); what is asserted is completeness, capacity, and that every GET made throughout
was answered.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest

from berth.platform.resources import quantity, registry
from tests.integration.scheduler.sched_harness import NS, node_manifest, pod_manifest

NODES = 2_000
PODS = 10_000
DEADLINE_S = 900


class _Prober:
    """GETs one pod every 0.2 s from its own thread, keeps the slowest answer and any error."""

    def __init__(self, client, name: str) -> None:
        self.client, self.name = client, name
        self.slowest = 0.0
        self.samples = 0
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _Prober:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            started = time.perf_counter()
            try:
                self.client.get(registry.POD, NS, self.name)
            except Exception as exc:  # noqa: BLE001 - reported by the test
                self.errors.append(exc)
                continue
            self.slowest = max(self.slowest, time.perf_counter() - started)
            self.samples += 1


def _pod(i: int) -> dict:
    return pod_manifest(f"p{i:05d}", cpu="1", memory="2Gi", gpu=1 if i % 5 == 0 else 0)


def _running(client) -> list[dict]:
    return client.list(registry.POD, NS, field_selector="status.phase=Running").items


@pytest.mark.timeout(DEADLINE_S + 120)
def test_ten_thousand_pods_on_two_thousand_simulated_nodes(sim, capsys):
    client = sim.client
    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(
            pool.map(
                lambda i: client.create(
                    registry.NODE, node_manifest(f"n{i:05d}", cpu="32", memory="256Gi", gpu=8)
                ),
                range(NODES),
            )
        )
    nodes_done = time.perf_counter()
    client.create(registry.POD, pod_manifest("probe", cpu="1"), NS)
    with _Prober(client, "probe") as prober:
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda i: client.create(registry.POD, _pod(i), NS), range(PODS)))
        created = time.perf_counter()
        deadline = created + DEADLINE_S
        while len(running := _running(client)) < PODS + 1:
            assert time.perf_counter() < deadline, f"only {len(running)} pods Running"
            time.sleep(2)
        finished = time.perf_counter()

    with capsys.disabled():
        print(
            f"\n[{client.db.dialect.url.split(':')[0]}] {NODES} nodes in "
            f"{nodes_done - started:.1f}s; {PODS} pods created in {created - nodes_done:.1f}s "
            f"({PODS / (created - nodes_done):.0f}/s), all Running after "
            f"{finished - nodes_done:.1f}s ({PODS / (finished - nodes_done):.0f} pods/s "
            f"end to end); scheduler: {sim.loop.stats.cycles} cycles, "
            f"{sim.loop.stats.cycle_seconds:.2f}s deciding; slowest GET "
            f"{prober.slowest * 1000:.0f} ms over {prober.samples} samples"
        )
    assert prober.errors == []
    assert prober.samples > 0
    assert sim.loop.stats.bind_errors == 0
    used: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for pod in running:
        for container in pod["spec"]["containers"]:
            requests = {
                **container["resources"].get("limits", {}),
                **container["resources"]["requests"],
            }
            for resource, amount in requests.items():
                used[pod["spec"]["nodeName"]][resource] += (
                    quantity.to_milli(amount) if resource == "cpu" else quantity.to_int(amount)
                )
    for node, amounts in used.items():
        assert amounts["cpu"] <= 32_000, node
        assert amounts["memory"] <= 256 * 2**30, node
        assert amounts.get("nvidia.com/gpu", 0) <= 8, node
