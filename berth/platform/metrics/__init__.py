"""Berth's Prometheus metrics: the one place every series is defined.

* ``series.Metrics``: the series recorded as events happen (one registry per process);
* ``recorders.EventRecorder``: feeds them from the Job and Pod informers;
* ``collectors.StateCollector``: jobs, pods, nodes, CronJobs and the scheduler, read at scrape
  time from the informers' caches (kube-state-metrics style);
* ``usage.NodeUsageSampler``: real CPU and memory use of each Ray node;
* ``http``: the API's request middleware and the ``/metrics`` response.
"""

from __future__ import annotations

from prometheus_client.registry import Collector

from berth.platform.cache.informers import InformerHub
from berth.platform.metrics.collectors import SchedulerView, StateCollector
from berth.platform.metrics.recorders import EventRecorder
from berth.platform.metrics.series import Metrics

__all__ = ["Metrics", "watch_cluster", "watch_node_usage", "unwatch"]


def watch_cluster(
    metrics: Metrics, hub: InformerHub, scheduler: SchedulerView | None = None
) -> list[Collector]:
    """Feed the event series from ``hub``'s informers and register the state collector;
    before ``hub.start()``. Returns the collectors to unregister when ``hub`` stops."""
    EventRecorder(metrics).register(hub)
    collector = StateCollector(hub, scheduler)
    metrics.registry.register(collector)
    return [collector]


def watch_node_usage(metrics: Metrics, kubelet, period_s: float) -> Collector:
    """Sample the real CPU and memory use of the nodes with a Berth agent (``kubelet``: the
    worker service's ``KubeletSync``); after the workers started. (Imported here: it needs
    Ray, which a process serving only the API never loads.)"""
    from berth.platform.metrics.usage import NodeUsageSampler

    sampler = NodeUsageSampler.of_agents(kubelet, period_s).start()
    metrics.registry.register(sampler)
    return sampler


def unwatch(metrics: Metrics, collectors: list[Collector]) -> None:
    """Unregister the collectors of a term that ends (and stop the ones that sample)."""
    for collector in collectors:
        metrics.registry.unregister(collector)
        stop = getattr(collector, "stop", None)  # the samplers' threads
        if stop is not None:
            stop()
