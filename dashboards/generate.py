"""The four Berth dashboards. ``python -m dashboards.generate`` rewrites
``dashboards/grafana/dashboards/*.json``; a test checks the files match this module.

Queries use Berth's series (``berth/platform/metrics``) and, on the GPU board, NVIDIA DCGM
exporter's ``DCGM_FI_DEV_GPU_UTIL`` (percent) and ``DCGM_FI_DEV_FB_USED`` (MiB).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from dashboards.panels import RATE, dashboard, series, stat
from dashboards.panels import Target as T

OUT = Path(__file__).resolve().parent / "grafana" / "dashboards"
R = RATE


def _quantiles(metric: str, by: str = "") -> tuple[T, ...]:
    group = f"le, {by}" if by else "le"
    suffix = f" {{{{{by}}}}}" if by else ""
    return tuple(
        T(
            f"histogram_quantile({q}, sum by ({group}) (rate({metric}_bucket[{R}])))",
            f"p{int(q * 100)}{suffix}",
        )
        for q in (0.5, 0.9, 0.99)
    )


def overview() -> dict:
    return dashboard(
        "berth-overview",
        "Berth / Overview",
        "Jobs, the queue, throughput and failures.",
        [
            stat(
                "Jobs running",
                "Jobs with pods that have not finished.",
                'sum(berth_jobs{state="active"})',
            ),
            stat(
                "Jobs queued",
                "Jobs created with no pod running yet.",
                'sum(berth_jobs{state="pending"})',
            ),
            stat(
                "Pods waiting for a node",
                "Pods in the scheduler's queues.",
                "sum(berth_scheduler_pending_pods)",
            ),
            stat("Nodes ready", "Nodes whose Ready condition is True.", "sum(berth_node_ready)"),
            series(
                "Jobs by state",
                "pending (queued), active, suspended, complete, failed.",
                T("sum by (state) (berth_jobs)", "{{state}}"),
            ),
            series(
                "Unfinished jobs by namespace",
                "pending and active Jobs per namespace.",
                T('sum by (namespace) (berth_jobs{state=~"pending|active"})', "{{namespace}}"),
            ),
            series(
                "Throughput",
                "Jobs finished per minute.",
                T(f"sum(rate(berth_job_completions_total[{R}])) * 60", "complete"),
                T(f"sum(rate(berth_job_failures_total[{R}])) * 60", "failed"),
                unit="short",
            ),
            series(
                "Job failures by reason",
                "BackoffLimitExceeded, DeadlineExceeded, ...",
                T(f"sum by (reason) (increase(berth_job_failures_total[{R}]))", "{{reason}}"),
                stacked=True,
            ),
            series(
                "Job duration",
                "Start to end of finished Jobs.",
                *_quantiles("berth_job_duration_seconds"),
                unit="s",
            ),
            series(
                "Job queue wait",
                "Job creation to its first pod bound to a node.",
                *_quantiles("berth_job_queue_wait_seconds"),
                unit="s",
            ),
            series(
                "Pods by phase",
                "Pending, Running, Succeeded, Failed.",
                T("sum by (phase) (berth_pods)", "{{phase}}"),
                stacked=True,
            ),
            series(
                "Pod launches and failures",
                "Pods started by node agents, pods failed by reason, per second.",
                T(f"sum(rate(berth_pod_launches_total[{R}]))", "launched"),
                T(f"sum by (reason) (rate(berth_pod_failures_total[{R}]))", "failed: {{reason}}"),
                unit="reqps",
            ),
            series(
                "API requests",
                "Requests per second by verb, all API replicas.",
                T(f"sum by (verb) (rate(berth_api_requests_total[{R}]))", "{{verb}}"),
                unit="reqps",
                width=8,
            ),
            series(
                "API errors",
                "4xx and 5xx responses per second by resource and code.",
                T(
                    f'sum by (resource, code) (rate(berth_api_requests_total{{code=~"4..|5.."}}'
                    f"[{R}]))",
                    "{{resource}} {{code}}",
                ),
                unit="reqps",
                width=8,
            ),
            series(
                "API latency",
                "99th percentile by resource (watches excepted).",
                T(
                    "histogram_quantile(0.99, sum by (le, resource) "
                    f"(rate(berth_api_request_duration_seconds_bucket[{R}])))",
                    "{{resource}}",
                ),
                unit="s",
                width=8,
            ),
            series(
                "Watch connections",
                "Open watch streams by resource.",
                T("sum by (resource) (berth_api_watch_connections)", "{{resource}}"),
            ),
            series(
                "Controller leader",
                "1 where a controller process holds the lease.",
                T("berth_controller_leader", "{{instance}}"),
            ),
        ],
    )


def _share(resource: str, by: str = "node") -> T:
    return T(
        f"sum by ({by}) (berth_node_requested_{resource}) / "
        f"(sum by ({by}) (berth_node_allocatable_{resource}) > 0)",
        "{{node}}",
    )


def scheduler() -> dict:
    return dashboard(
        "berth-scheduler",
        "Berth / Scheduler and capacity",
        "Scheduling outcomes and latency, allocation and fragmentation per "
        "resource and node, and why pods are Pending.",
        [
            series(
                "Scheduling attempts",
                "Decisions per second: scheduled, unschedulable, conflict, error.",
                T(
                    f"sum by (result) (rate(berth_scheduler_schedule_attempts_total[{R}]))",
                    "{{result}}",
                ),
                unit="reqps",
                width=8,
            ),
            series(
                "Scheduling latency",
                "Queue to bind.",
                *_quantiles("berth_scheduler_pod_scheduling_seconds"),
                unit="s",
                width=8,
            ),
            series(
                "Pending pods by queue",
                "active, backoff, unschedulable, flight.",
                T("sum by (queue) (berth_scheduler_pending_pods)", "{{queue}}"),
                width=8,
            ),
            series(
                "Why pods are Pending",
                "Unschedulable pods by the scheduler's reason.",
                T("sum by (reason) (berth_scheduler_unschedulable_pods)", "{{reason}}"),
                width=24,
            ),
            series(
                "Cluster allocation",
                "Requested / allocatable, whole cluster.",
                T(
                    "sum(berth_node_requested_cpu_cores) / sum(berth_node_allocatable_cpu_cores)",
                    "cpu",
                ),
                T(
                    "sum(berth_node_requested_memory_bytes) / "
                    "sum(berth_node_allocatable_memory_bytes)",
                    "memory",
                ),
                T("sum(berth_node_requested_gpus) / (sum(berth_node_allocatable_gpus) > 0)", "gpu"),
                unit="percentunit",
            ),
            series(
                "GPU fragmentation",
                "Free GPUs that no pending GPU request could use.",
                T("sum(berth_node_fragmented_gpus)", "cluster"),
                T("berth_node_fragmented_gpus > 0", "{{node}}"),
            ),
            series(
                "CPU allocation by node",
                "Requested / allocatable CPU.",
                _share("cpu_cores"),
                unit="percentunit",
                width=8,
            ),
            series(
                "Memory allocation by node",
                "Requested / allocatable memory.",
                _share("memory_bytes"),
                unit="percentunit",
                width=8,
            ),
            series(
                "GPU allocation by node",
                "Requested / allocatable GPUs (GPU nodes).",
                _share("gpus"),
                unit="percentunit",
                width=8,
            ),
            series(
                "Node CPU use",
                "Real busy CPU cores per Ray node's host.",
                T(f"rate(berth_node_cpu_usage_seconds_total[{R}])", "{{node}}"),
                width=8,
            ),
            series(
                "Node memory use",
                "Real memory in use / total per Ray node's host.",
                T("berth_node_memory_usage_bytes / berth_node_memory_total_bytes", "{{node}}"),
                unit="percentunit",
                width=8,
            ),
            series("Node readiness", "1: Ready.", T("berth_node_ready", "{{node}}"), width=8),
        ],
    )


def cron() -> dict:
    return dashboard(
        "berth-cron",
        "Berth / Cron pipelines",
        "CronJob runs on time, late and missed; when each fires next.",
        [
            series(
                "Runs on time and late",
                "Runs created within 1 s of their schedule, and after.",
                T(
                    f'sum(increase(berth_cronjob_firing_lateness_seconds_bucket{{le="1.0"}}[{R}]))',
                    "on time",
                ),
                T(
                    f"sum(increase(berth_cronjob_firing_lateness_seconds_count[{R}])) - "
                    'sum(increase(berth_cronjob_firing_lateness_seconds_bucket{le="1.0"}'
                    f"[{R}]))",
                    "late",
                ),
                stacked=True,
                width=8,
            ),
            series(
                "Missed runs",
                "Scheduled runs never created.",
                T(f"sum(increase(berth_cronjob_missed_runs_total[{R}]))", "missed"),
                width=8,
            ),
            series(
                "Firing lateness",
                "Scheduled time to run created.",
                *_quantiles("berth_cronjob_firing_lateness_seconds"),
                unit="s",
                width=8,
            ),
            series(
                "Next run in",
                "Seconds until each CronJob fires next.",
                T("berth_cronjob_next_schedule_time_seconds - time()", "{{namespace}}/{{cronjob}}"),
                unit="s",
            ),
            series(
                "Last run ago",
                "Seconds since each CronJob last created a run.",
                T("time() - berth_cronjob_last_schedule_time_seconds", "{{namespace}}/{{cronjob}}"),
                unit="s",
            ),
        ],
    )


def gpus() -> dict:
    return dashboard(
        "berth-gpus",
        "Berth / GPUs",
        "Real GPU use from NVIDIA DCGM exporter beside Berth's GPU allocation.",
        [
            series(
                "GPU utilization (DCGM)",
                "Per GPU, from dcgm-exporter.",
                T("avg by (Hostname, gpu) (DCGM_FI_DEV_GPU_UTIL)", "{{Hostname}} gpu {{gpu}}"),
                unit="percent",
            ),
            series(
                "GPU memory used (DCGM)",
                "Framebuffer in use per GPU (MiB).",
                T("sum by (Hostname, gpu) (DCGM_FI_DEV_FB_USED)", "{{Hostname}} gpu {{gpu}}"),
                unit="decmbytes",
            ),
            series(
                "GPUs allocated by node",
                "Requested and allocatable GPUs (Berth).",
                T(
                    "berth_node_requested_gpus and berth_node_allocatable_gpus > 0",
                    "requested {{node}}",
                ),
                T("berth_node_allocatable_gpus > 0", "allocatable {{node}}"),
            ),
            series(
                "Allocated vs busy",
                "Share of GPUs Berth allocated, and DCGM's mean utilization.",
                T(
                    "sum(berth_node_requested_gpus) / (sum(berth_node_allocatable_gpus) > 0)",
                    "allocated",
                ),
                T("avg(DCGM_FI_DEV_GPU_UTIL) / 100", "busy (DCGM)"),
                unit="percentunit",
            ),
            series(
                "Fragmented GPUs by node",
                "Free GPUs no pending GPU request could use.",
                T("berth_node_fragmented_gpus", "{{node}}"),
            ),
            series(
                "Pods waiting for GPUs",
                "Pending pods the scheduler turned away for GPUs.",
                T(
                    'sum(berth_scheduler_unschedulable_pods{reason="Insufficient nvidia.com/gpu"})',
                    "insufficient GPUs",
                ),
            ),
        ],
    )


DASHBOARDS = {
    "berth-overview": overview,
    "berth-scheduler": scheduler,
    "berth-cron": cron,
    "berth-gpus": gpus,
}


def render(board: dict) -> str:
    return json.dumps(board, indent=2, sort_keys=True) + "\n"


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, build in DASHBOARDS.items():
        (OUT / f"{name}.json").write_text(render(build()))
    print(f"wrote {len(DASHBOARDS)} dashboards to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
