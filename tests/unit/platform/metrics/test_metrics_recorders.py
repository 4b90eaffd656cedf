"""The event series, fed (old, new) pairs as the informers would, with a fake clock."""

import copy
from types import SimpleNamespace

from berth.platform.metrics.recorders import CONTROLLER_UID, EventRecorder
from berth.platform.metrics.series import Metrics
from tests.unit.platform.metrics.builders import a_job, a_pod


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def value(metrics: Metrics, name: str, **labels) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def changed(obj: dict, **status) -> dict:
    new = copy.deepcopy(obj)
    new["status"].update(status)
    return new


def test_job_finish_counts_once_with_its_reason_and_duration():
    metrics, clock = Metrics(), Clock()
    rec = EventRecorder(metrics, clock)
    running = a_job("j", active=1, start="2026-01-01T00:00:00Z")
    failed = a_job(
        "j",
        finished="Failed",
        reason="BackoffLimitExceeded",
        start="2026-01-01T00:00:00Z",
        end="2026-01-01T00:00:42Z",
    )
    rec.on_job(running, failed)
    rec.on_job(failed, failed)  # a later update of a finished Job
    assert value(metrics, "berth_job_failures_total", reason="BackoffLimitExceeded") == 1
    assert value(metrics, "berth_job_duration_seconds_sum", result="failed") == 42
    done = a_job("k", finished="Complete", reason="CompletionsReached")
    rec.on_job(None, done)  # listed after a restart: not a transition seen
    assert value(metrics, "berth_job_completions_total", reason="CompletionsReached") == 0
    rec.on_job(a_job("k", active=1), done)
    assert value(metrics, "berth_job_completions_total", reason="CompletionsReached") == 1


def test_queue_wait_runs_from_job_creation_to_its_first_bound_pod():
    metrics, clock = Metrics(), Clock()
    rec = EventRecorder(metrics, clock)
    rec.on_job(None, a_job("j"))
    labels = {CONTROLLER_UID: "uid-j"}
    pod = a_pod("j-1", labels=labels)
    clock.now = 101.0
    rec.on_pod(None, pod)
    clock.now = 103.5
    bound = copy.deepcopy(pod)
    bound["spec"]["nodeName"] = "n1"
    rec.on_pod(pod, bound)
    second = a_pod("j-2", labels=labels)
    rec.on_pod(None, second)
    second_bound = copy.deepcopy(second)
    second_bound["spec"]["nodeName"] = "n1"
    rec.on_pod(second, second_bound)
    assert value(metrics, "berth_job_queue_wait_seconds_count") == 1
    assert value(metrics, "berth_job_queue_wait_seconds_sum") == 3.5
    assert value(metrics, "berth_scheduler_pod_scheduling_seconds_count") == 2
    assert value(metrics, "berth_scheduler_pod_scheduling_seconds_sum") == 2.5


def test_pods_listed_bound_after_a_restart_are_not_timed():
    metrics = Metrics()
    rec = EventRecorder(metrics, Clock())
    rec.on_pod(None, a_pod("p", node="n1", phase="Running"))
    assert value(metrics, "berth_scheduler_pod_scheduling_seconds_count") == 0
    assert value(metrics, "berth_pod_launches_total", node="n1") == 0


def test_launches_and_failures_by_reason():
    metrics = Metrics()
    rec = EventRecorder(metrics, Clock())
    pending = a_pod("p", node="n1")
    running = changed(pending, phase="Running")
    failed = changed(
        running,
        phase="Failed",
        containerStatuses=[
            {
                "name": "main",
                "state": {
                    "terminated": {
                        "exitCode": 137,
                        "reason": "OOMKilled",
                        "startedAt": "2026-01-01T00:00:00Z",
                    }
                },
            }
        ],
    )
    rec.on_pod(pending, running)
    rec.on_pod(running, failed)
    rec.on_pod(failed, failed)
    assert value(metrics, "berth_pod_launches_total", node="n1") == 1
    assert value(metrics, "berth_pod_failures_total", reason="OOMKilled") == 1


def test_odd_reasons_are_bounded():
    metrics = Metrics()
    metrics.pod_reason.limit = 2
    rec = EventRecorder(metrics, Clock())
    for i in range(5):
        pod = a_pod(f"p{i}", node="n1", phase="Running")
        rec.on_pod(pod, changed(pod, phase="Failed", reason=f"Weird{i}"))
    assert value(metrics, "berth_pod_failures_total", reason="Weird0") == 1
    assert value(metrics, "berth_pod_failures_total", reason="Weird1") == 1
    assert value(metrics, "berth_pod_failures_total", reason="other") == 3


def test_cron_hooks():
    metrics = Metrics()
    metrics.cron_fired(0.2)
    metrics.cron_fired(7.0)
    metrics.cron_missed_runs(2)
    assert value(metrics, "berth_cronjob_firing_lateness_seconds_bucket", le="1.0") == 1
    assert value(metrics, "berth_cronjob_firing_lateness_seconds_count") == 2
    assert value(metrics, "berth_cronjob_missed_runs_total") == 2


def test_cron_observer_takes_the_cron_controllers_decisions():
    metrics = Metrics()
    metrics.observe_cron({}, SimpleNamespace(lateness=0.3, missed=0), "nightly-29000000")
    metrics.observe_cron({}, SimpleNamespace(lateness=90.0, missed=3), "nightly-29000060")
    metrics.observe_cron({}, SimpleNamespace(lateness=None, missed=0), None)  # nothing due
    assert value(metrics, "berth_cronjob_firing_lateness_seconds_count") == 2
    assert value(metrics, "berth_cronjob_firing_lateness_seconds_bucket", le="1.0") == 1
    assert value(metrics, "berth_cronjob_missed_runs_total") == 3
