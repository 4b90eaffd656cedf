"""Series read at scrape time, kube-state-metrics style: from the informers' caches and the
scheduler's counters, never from the database, so a scrape costs no query.

``StateCollector`` is registered only in a process that runs the controllers (it needs their
informers); API replicas export request metrics only, so sums over instances never count a
Job twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from berth.platform.cache.informers import InformerHub
from berth.platform.metrics.capacity import (
    PodTally,
    RequestCache,
    device_allocated,
    fragmented_gpus,
    node_usages,
    requested_gpus,
)
from berth.platform.metrics.states import JOB_STATES, POD_PHASES, cron_next_fire, job_state
from berth.platform.resources import registry
from berth.platform.resources.meta import dig, parse_time
from berth.scheduler.loop import LoopStats

Clock = Callable[[], datetime]


class SchedulerView(Protocol):
    stats: LoopStats
    queue_counts: dict[str, int]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class StateCollector(Collector):
    def __init__(
        self, hub: InformerHub, scheduler: SchedulerView | None = None, clock: Clock = _utcnow
    ):
        self.scheduler = scheduler
        self.clock = clock
        self.jobs = hub.informer(registry.JOB)
        self.pods = hub.informer(registry.POD)
        self.nodes = hub.informer(registry.NODE)
        self.cronjobs = hub.informer(registry.CRON_JOB)
        self._requests = RequestCache()

    def collect(self) -> Iterable:
        tally = self._requests.tally(self.pods.list())
        yield from self._jobs(tally)
        yield from self._pods(tally)
        yield from self._nodes(tally)
        yield from self._cronjobs()
        if self.scheduler is not None:
            yield from self._scheduler(self.scheduler)

    def _jobs(self, tally: PodTally) -> Iterable:
        family = GaugeMetricFamily(
            "berth_jobs",
            "Jobs by namespace and state. state: "
            + ", ".join(JOB_STATES)
            + " (active: a pod Running; pending: queued, no pod Running yet).",
            labels=["namespace", "state"],
        )
        counts = Counter(
            (
                dig(j, "metadata", "namespace"),
                job_state(j, dig(j, "metadata", "uid") in tally.running_jobs),
            )
            for j in self.jobs.list()
        )
        for namespace in sorted({ns for ns, _ in counts}):
            for state in JOB_STATES:
                family.add_metric([namespace, state], counts.get((namespace, state), 0))
        yield family

    def _pods(self, tally: PodTally) -> Iterable:
        family = GaugeMetricFamily(
            "berth_pods",
            "Pods by namespace and phase. phase: " + ", ".join(POD_PHASES) + ".",
            labels=["namespace", "phase"],
        )
        counts = tally.phases
        for namespace in sorted({ns for ns, _ in counts}):
            for phase in POD_PHASES:
                family.add_metric([namespace, phase], counts.get((namespace, phase), 0))
        yield family
        reasons = GaugeMetricFamily(
            "berth_scheduler_unschedulable_pods",
            "Pending pods the scheduler could not place, by reason (a pod with several "
            "reasons counts under each). reason: Insufficient cpu, Insufficient memory, "
            "Insufficient nvidia.com/gpu, node(s) didn't match Pod's node affinity/selector, "
            "node(s) had untolerated taint, node(s) were unschedulable, Too many pods, "
            "no nodes available to schedule pods, ...",
            labels=["reason"],
        )
        for reason, count in sorted(tally.reasons.items()):
            reasons.add_metric([reason], count)
        yield reasons

    def _nodes(self, tally: PodTally) -> Iterable:
        names = ("cpu_cores", "memory_bytes", "gpus")
        scale = (1e-3, 1.0, 1.0)  # millicores to cores
        alloc = {
            n: GaugeMetricFamily(
                f"berth_node_allocatable_{n}",
                f"Allocatable {n.replace('_', ' ')} per node.",
                labels=["node"],
            )
            for n in names
        }
        req = {
            n: GaugeMetricFamily(
                f"berth_node_requested_{n}",
                f"{n.replace('_', ' ').capitalize()} requested by the "
                "live pods bound to each node.",
                labels=["node"],
            )
            for n in names
        }
        ready = GaugeMetricFamily(
            "berth_node_ready",
            "1 when the node's Ready condition is True, else 0.",
            labels=["node"],
        )
        fragmented = GaugeMetricFamily(
            "berth_node_fragmented_gpus",
            "Free GPU capacity on the node (whole devices and what shares leave of a device) "
            "that no pending GPU request could use (0 while no GPU pod is pending).",
            labels=["node"],
        )
        devices = GaugeMetricFamily(
            "berth_node_gpu_device_allocated",
            "GPU allocated on each device of each node, in GPUs (a whole GPU 1, shares "
            "berth.dev/gpu-milli / 1000), on the devices the scheduler chose.",
            labels=["node", "device"],
        )
        for usage in node_usages(self.nodes.list(), tally.on_node):
            view = usage.view
            for name, factor, a, r in zip(
                names,
                scale,
                (view.alloc_cpu, view.alloc_mem, view.alloc_gpu),
                (view.req_cpu, view.req_mem, requested_gpus(view)),
                strict=True,
            ):
                alloc[name].add_metric([usage.name], a * factor)
                req[name].add_metric([usage.name], r * factor)
            ready.add_metric([usage.name], 1 if usage.ready else 0)
            fragmented.add_metric([usage.name], fragmented_gpus(view, tally.pending))
            for device, used in enumerate(device_allocated(view)):
                devices.add_metric([usage.name, str(device)], used)
        yield from alloc.values()
        yield from req.values()
        yield ready
        yield fragmented
        yield devices

    def _cronjobs(self) -> Iterable:
        nxt = GaugeMetricFamily(
            "berth_cronjob_next_schedule_time_seconds",
            "When each CronJob fires next (Unix time; absent while suspended).",
            labels=["namespace", "cronjob"],
        )
        last = GaugeMetricFamily(
            "berth_cronjob_last_schedule_time_seconds",
            "When each CronJob last created a run (Unix time).",
            labels=["namespace", "cronjob"],
        )
        now = self.clock()
        for cj in self.cronjobs.list():
            key = [dig(cj, "metadata", "namespace"), dig(cj, "metadata", "name")]
            last_time = dig(cj, "status", "lastScheduleTime")
            if last_time:
                last.add_metric(key, parse_time(last_time).timestamp())
            if dig(cj, "spec", "suspend"):
                continue
            fire = cron_next_fire(
                dig(cj, "spec", "schedule", default=""), dig(cj, "spec", "timeZone"), now
            )
            if fire is not None:
                nxt.add_metric(key, fire.timestamp())
        yield nxt
        yield last

    def _scheduler(self, scheduler: SchedulerView) -> Iterable:
        stats = scheduler.stats
        attempts = CounterMetricFamily(
            "berth_scheduler_schedule_attempts",
            "Scheduling decisions and bind outcomes. result: scheduled (bind accepted), "
            "unschedulable (no node fits), conflict (pod changed meanwhile), error (store "
            "failure).",
            labels=["result"],
        )
        for result, value in (
            ("scheduled", stats.bound),
            ("unschedulable", stats.unschedulable),
            ("conflict", stats.bind_conflicts),
            ("error", stats.bind_errors),
        ):
            attempts.add_metric([result], value)
        yield attempts
        queue = GaugeMetricFamily(
            "berth_scheduler_pending_pods",
            "Pods waiting in the scheduler, by queue. queue: active, backoff, unschedulable, "
            "flight (bind in progress).",
            labels=["queue"],
        )
        for name, value in sorted(scheduler.queue_counts.items()):
            queue.add_metric([name], value)
        yield queue
