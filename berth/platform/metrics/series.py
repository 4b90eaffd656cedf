"""Every series Berth records at the moment something happens (counters and histograms).

Series read from the store at scrape time (jobs by state, node allocation, ...) live in
``collectors.py``. Names follow ``berth_<thing>_<unit>`` / ``_total``; every help text lists
its labels' values. Labels stay bounded: reasons pass through ``BoundedLabel``, which admits a
fixed number of distinct values and files the rest under ``other``.
"""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Batch work lasts seconds to days.
JOB_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400)
# Queueing and scheduling: milliseconds when there is room, hours when there is none.
WAIT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600)
API_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# A CronJob run is on time within a second of its schedule (see dashboards/cron).
LATENESS_BUCKETS = (0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600)

OTHER = "other"


class BoundedLabel:
    """Admits the first ``limit`` distinct values of a label; later new values become
    ``other``, so a stream of odd reasons cannot grow the series without end."""

    def __init__(self, limit: int = 32):
        self.limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: str) -> str:
        if value in self._seen:
            return value
        with self._lock:
            if len(self._seen) < self.limit:
                self._seen.add(value)
                return value
        return OTHER


class Metrics:
    """The event series of one Berth process, in its own registry (tests run several)."""

    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.job_reason = BoundedLabel()
        self.pod_reason = BoundedLabel()
        # -- jobs --------------------------------------------------------------------------
        self.job_duration = Histogram(
            "berth_job_duration_seconds",
            "Time from a Job's start to its end. result: complete, failed.",
            ["result"],
            buckets=JOB_BUCKETS,
            registry=r,
        )
        self.job_queue_wait = Histogram(
            "berth_job_queue_wait_seconds",
            "Time from a Job's creation to the first of its pods bound to a node.",
            buckets=WAIT_BUCKETS,
            registry=r,
        )
        self.job_completions = Counter(
            "berth_job_completions_total",
            "Jobs that completed. reason: CompletionsReached, SuccessPolicy.",
            ["reason"],
            registry=r,
        )
        self.job_failures = Counter(
            "berth_job_failures_total",
            "Jobs that failed. reason: BackoffLimitExceeded, DeadlineExceeded, "
            "PodFailurePolicy, MaxFailedIndexesExceeded, other.",
            ["reason"],
            registry=r,
        )
        # -- scheduler ---------------------------------------------------------------------
        self.scheduling_latency = Histogram(
            "berth_scheduler_pod_scheduling_seconds",
            "Time from a pod entering the scheduling queue to its bind to a node.",
            buckets=WAIT_BUCKETS,
            registry=r,
        )
        # -- workers -----------------------------------------------------------------------
        self.pod_launches = Counter(
            "berth_pod_launches_total",
            "Pods whose containers a node agent started. node: the node's name.",
            ["node"],
            registry=r,
        )
        self.pod_failures = Counter(
            "berth_pod_failures_total",
            "Pods that ended Failed. reason: Error, OOMKilled, StartError, DeadlineExceeded, "
            "Evicted, NodeLost, Unknown, other (the pod's or its container's reason).",
            ["reason"],
            registry=r,
        )
        # -- cron --------------------------------------------------------------------------
        self.cron_lateness = Histogram(
            "berth_cronjob_firing_lateness_seconds",
            "How long after its scheduled time a CronJob run was created.",
            buckets=LATENESS_BUCKETS,
            registry=r,
        )
        self.cron_missed = Counter(
            "berth_cronjob_missed_runs_total",
            "Scheduled CronJob runs that were never created (controller down past "
            "startingDeadlineSeconds, or skipped by concurrencyPolicy Forbid).",
            registry=r,
        )
        # -- API ---------------------------------------------------------------------------
        self.api_requests = Counter(
            "berth_api_requests_total",
            "API requests. verb: get, list, watch, create, update, patch, delete, "
            "deletecollection (non-resource paths: the HTTP method); resource: the resource "
            "and subresource (jobs, pods/log...; empty for /healthz, discovery, /metrics); "
            "code: the HTTP status.",
            ["verb", "resource", "code"],
            registry=r,
        )
        self.api_latency = Histogram(
            "berth_api_request_duration_seconds",
            "API request latency, watches excepted. verb, resource: as berth_api_requests_total.",
            ["verb", "resource"],
            buckets=API_BUCKETS,
            registry=r,
        )
        self.watch_connections = Gauge(
            "berth_api_watch_connections",
            "Open watch streams. resource: the resource watched.",
            ["resource"],
            registry=r,
        )
        self.leader = Gauge(
            "berth_controller_leader",
            "1 while this process runs the controllers, scheduler and node agents; 0 while "
            "it waits for the lease (or serves the API only).",
            registry=r,
        )

    # -- hooks for the parts that fire events ---------------------------------------------
    def cron_fired(self, lateness_s: float) -> None:
        """The CronJob controller created a run ``lateness_s`` after its scheduled time."""
        self.cron_lateness.observe(max(lateness_s, 0.0))

    def cron_missed_runs(self, count: int = 1) -> None:
        """The CronJob controller skipped ``count`` scheduled runs."""
        self.cron_missed.inc(count)

    def observe_cron(self, cronjob: dict, decision, created: str | None) -> None:
        """A CronJob controller observer: ``decision`` carries ``lateness`` (seconds from the
        scheduled time to now, for the run it creates) and ``missed`` (schedule times passed
        over without a run); ``created`` names the Job created, or None."""
        if created is not None and getattr(decision, "lateness", None) is not None:
            self.cron_fired(decision.lateness)
        if getattr(decision, "missed", 0):
            self.cron_missed_runs(decision.missed)
