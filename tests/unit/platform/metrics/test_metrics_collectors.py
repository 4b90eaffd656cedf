"""The scrape-time collector over informers filled by hand (no store, no threads)."""

from datetime import UTC, datetime

from prometheus_client import CollectorRegistry

from berth.platform.cache.informers import InformerHub
from berth.platform.metrics.collectors import StateCollector
from berth.platform.resources import registry
from berth.scheduler.loop import LoopStats
from tests.unit.platform.metrics.builders import a_job, a_node, a_pod


class FakeScheduler:
    def __init__(self):
        self.stats = LoopStats(bound=5, unschedulable=3, bind_conflicts=1)
        self.queue_counts = {"active": 1, "backoff": 0, "unschedulable": 2, "flight": 0}


def collect(objects: dict, scheduler=None) -> CollectorRegistry:
    hub = InformerHub(client=None, feed=None)
    clock = lambda: datetime(2026, 3, 4, 10, 17, 30, tzinfo=UTC)  # noqa: E731
    collector = StateCollector(hub, scheduler, clock=clock)
    for rt, items in objects.items():
        hub.informer(rt)._replace(items)
    reg = CollectorRegistry()
    reg.register(collector)
    return reg


def test_state_series():
    reg = collect(
        {
            registry.JOB: [
                a_job("a", active=1),
                a_job("b"),
                a_job("c", namespace="ml"),
                a_job("d", finished="Complete", reason="CompletionsReached"),
            ],
            registry.POD: [
                a_pod(
                    "a-1",
                    node="gpu",
                    phase="Running",
                    cpu="2",
                    gpus=6,
                    labels={"batch.kubernetes.io/controller-uid": "uid-a"},
                ),
                a_pod(
                    "big", gpus=4, message="0/1 nodes are available: 1 Insufficient nvidia.com/gpu."
                ),
            ],
            registry.NODE: [a_node("gpu", cpu="16", memory="64Gi", gpus=8)],
            registry.CRON_JOB: [
                {
                    "metadata": {"namespace": "default", "name": "nightly"},
                    "spec": {"schedule": "0 0 * * *"},
                    "status": {"lastScheduleTime": "2026-03-04T00:00:00Z"},
                }
            ],
        },
        FakeScheduler(),
    )
    get = reg.get_sample_value
    assert get("berth_jobs", {"namespace": "default", "state": "active"}) == 1
    assert get("berth_jobs", {"namespace": "default", "state": "pending"}) == 1
    assert get("berth_jobs", {"namespace": "default", "state": "complete"}) == 1
    assert get("berth_jobs", {"namespace": "ml", "state": "pending"}) == 1
    assert get("berth_jobs", {"namespace": "ml", "state": "failed"}) == 0
    assert get("berth_pods", {"namespace": "default", "phase": "Running"}) == 1
    assert get("berth_pods", {"namespace": "default", "phase": "Pending"}) == 1
    assert get("berth_node_allocatable_cpu_cores", {"node": "gpu"}) == 16
    assert get("berth_node_requested_cpu_cores", {"node": "gpu"}) == 2
    assert get("berth_node_allocatable_memory_bytes", {"node": "gpu"}) == 64 * 2**30
    assert get("berth_node_requested_gpus", {"node": "gpu"}) == 6
    assert get("berth_node_ready", {"node": "gpu"}) == 1
    assert get("berth_node_fragmented_gpus", {"node": "gpu"}) == 2
    assert get("berth_scheduler_unschedulable_pods", {"reason": "Insufficient nvidia.com/gpu"}) == 1
    assert (
        get(
            "berth_cronjob_next_schedule_time_seconds",
            {"namespace": "default", "cronjob": "nightly"},
        )
        == datetime(2026, 3, 5, tzinfo=UTC).timestamp()
    )
    assert (
        get(
            "berth_cronjob_last_schedule_time_seconds",
            {"namespace": "default", "cronjob": "nightly"},
        )
        == datetime(2026, 3, 4, tzinfo=UTC).timestamp()
    )
    assert get("berth_scheduler_schedule_attempts_total", {"result": "scheduled"}) == 5
    assert get("berth_scheduler_schedule_attempts_total", {"result": "unschedulable"}) == 3
    assert get("berth_scheduler_pending_pods", {"queue": "unschedulable"}) == 2


def test_suspended_cronjob_has_no_next_time_and_no_scheduler_no_scheduler_series():
    reg = collect(
        {
            registry.CRON_JOB: [
                {
                    "metadata": {"namespace": "d", "name": "c"},
                    "spec": {"schedule": "* * * * *", "suspend": True},
                }
            ]
        }
    )
    assert (
        reg.get_sample_value(
            "berth_cronjob_next_schedule_time_seconds", {"namespace": "d", "cronjob": "c"}
        )
        is None
    )
    assert reg.get_sample_value("berth_scheduler_pending_pods", {"queue": "active"}) is None


def test_per_device_gpu_allocation_is_a_series():
    reg = collect(
        {
            registry.POD: [
                a_pod("whole", node="gpu", phase="Running", gpus=1, devices="2"),
                a_pod("s1", node="gpu", phase="Running", gpu_milli=250, devices="0"),
                a_pod("s2", node="gpu", phase="Running", gpu_milli=500, devices="0"),
                a_pod("done", node="gpu", phase="Succeeded", gpus=1, devices="1"),
            ],
            registry.NODE: [a_node("gpu", cpu="16", memory="64Gi", gpus=4)],
        }
    )
    get = reg.get_sample_value
    assert [
        get("berth_node_gpu_device_allocated", {"node": "gpu", "device": str(d)}) for d in range(4)
    ] == [0.75, 0.0, 1.0, 0.0]
    assert get("berth_node_gpu_device_allocated", {"node": "gpu", "device": "4"}) is None
