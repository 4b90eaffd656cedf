"""Real CPU and memory use of every Ray node, for ``berth_node_cpu_usage_seconds_total`` and
``berth_node_memory_*_bytes``.

A sampler thread sends a tiny task (no CPU reserved) pinned to each node that has a Berth
agent; the task reads the node's ``/proc/stat`` and ``/proc/meminfo``. The collector serves the
latest sample, so a scrape never waits on Ray. Simulated nodes have no agent and no usage.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import NamedTuple

import ray
import ray.exceptions
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

log = logging.getLogger(__name__)

_STUCK_S = 60.0
_BUSY_FIELDS = (0, 1, 2, 5, 6, 7)  # user nice system irq softirq steal (not idle, iowait)


class HostUsage(NamedTuple):
    cpu_seconds: float  # CPU time spent busy since boot, all cores together
    memory_used: int  # MemTotal - MemAvailable, bytes
    memory_total: int


def cpu_busy_seconds(proc_stat: str, ticks_per_second: int) -> float:
    """Busy CPU seconds from the ``cpu`` line of ``/proc/stat``."""
    for line in proc_stat.splitlines():
        if line.startswith("cpu "):
            values = [int(v) for v in line.split()[1:]]
            return sum(values[i] for i in _BUSY_FIELDS if i < len(values)) / ticks_per_second
    raise ValueError("no cpu line in /proc/stat")


def memory_bytes(meminfo: str) -> tuple[int, int]:
    """(used, total) from ``/proc/meminfo``: used is MemTotal - MemAvailable."""
    fields = {}
    for line in meminfo.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts:
            fields[name] = int(parts[0]) * (1024 if parts[-1] == "kB" else 1)
    total = fields["MemTotal"]
    return total - fields.get("MemAvailable", fields.get("MemFree", 0)), total


def read_host_usage() -> HostUsage:
    with open("/proc/stat") as stat, open("/proc/meminfo") as meminfo:
        cpu = cpu_busy_seconds(stat.read(), os.sysconf("SC_CLK_TCK"))
        used, total = memory_bytes(meminfo.read())
    return HostUsage(cpu, used, total)


@ray.remote(num_cpus=0, max_retries=0)
def _sample() -> HostUsage:
    return read_host_usage()


class NodeUsageSampler(Collector):
    """``nodes()`` gives {node name: Ray node id} of the nodes to sample.
    ``NodeUsageSampler.of_agents(kubelet, period)``: the nodes with a Berth agent."""

    def __init__(self, nodes: Callable[[], dict[str, str]], period_s: float):
        self.nodes = nodes
        self.period_s = period_s
        self.latest: dict[str, HostUsage] = {}
        self._inflight: dict[str, tuple[ray.ObjectRef, float]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def of_agents(cls, kubelet, period_s: float) -> NodeUsageSampler:
        """``kubelet.agents``: {node name: ref with ``node_id``}, as ``KubeletSync`` has."""
        return cls(lambda: {name: ref.node_id for name, ref in kubelet.agents.items()}, period_s)

    def start(self) -> NodeUsageSampler:
        self._thread = threading.Thread(target=self._run, name="node-usage", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sample_once()
            except Exception:  # Ray restarting, a node going: try again next period
                log.warning("node usage sample failed", exc_info=True)
            self._stop.wait(self.period_s)

    def sample_once(self) -> None:
        """Collect the samples that arrived; send one task to each node that has none out.

        Never waits: a node's first task may take seconds (Ray starts a worker process for
        it), and a task that seems stuck is cancelled only after ``_STUCK_S``."""
        nodes = self.nodes()
        now = time.monotonic()
        latest = {name: usage for name, usage in self.latest.items() if name in nodes}
        for name, (ref, sent) in list(self._inflight.items()):
            ready, _ = ray.wait([ref], timeout=0)
            if ready:
                del self._inflight[name]
                try:
                    latest[name] = ray.get(ref)
                except ray.exceptions.RayError as err:
                    log.debug("usage of node %s not read: %s", name, err)
            elif name not in nodes or now - sent > _STUCK_S:
                del self._inflight[name]
                ray.cancel(ref)
        for name, node_id in nodes.items():
            if name not in self._inflight:
                strategy = NodeAffinitySchedulingStrategy(node_id, soft=False)
                self._inflight[name] = (_sample.options(scheduling_strategy=strategy).remote(), now)
        self.latest = latest

    def collect(self) -> Iterable:
        cpu = CounterMetricFamily(
            "berth_node_cpu_usage_seconds",
            "Busy CPU time of each Ray node's host since its boot, all cores together.",
            labels=["node"],
        )
        used = GaugeMetricFamily(
            "berth_node_memory_usage_bytes",
            "Memory in use on each Ray node's host (total - available).",
            labels=["node"],
        )
        total = GaugeMetricFamily(
            "berth_node_memory_total_bytes", "Memory of each Ray node's host.", labels=["node"]
        )
        for name, sample in sorted(self.latest.items()):
            cpu.add_metric([name], sample.cpu_seconds)
            used.add_metric([name], sample.memory_used)
            total.add_metric([name], sample.memory_total)
        yield cpu
        yield used
        yield total
