"""``bench_controlplane``'s baseline: the store alone makes exactly the writes per Job it says
(``per_job`` read from a change log; ``store_floor`` making them), on SQLite and PostgreSQL."""

from collections import Counter

import pytest

from benchmarks.bench_controlplane import NAMESPACE, NODE, job_manifest, store_writes
from benchmarks.controlplane_floor import per_job, store_floor
from berth.platform.resources import registry
from berth.platform.runtime import open_platform
from berth.settings import Settings

pytestmark = pytest.mark.integration

POD, JOB, EVENT = registry.POD.key, registry.JOB.key, registry.EVENT.key


@pytest.mark.parametrize(
    "writes, jobs, want",
    [
        # bench_controlplane's run: pods MODIFIED 3 per Job (the bind among them).
        (
            [(JOB, "MODIFIED", 300), (POD, "MODIFIED", 300), (JOB, "ADDED", 100)]
            + [(POD, "ADDED", 100), (EVENT, "ADDED Scheduled", 62), (EVENT, "ADDED Completed", 100)]
            + [(EVENT, "ADDED SuccessfulCreate", 100)],
            100,
            {"pod_status": 2, "job_status": 3, "events": 3},
        ),
        (
            [(POD, "MODIFIED", 4), (EVENT, "ADDED X", 7)],
            2,
            {"pod_status": 1, "job_status": 0, "events": 4},
        ),
        ([], 5, {"pod_status": 0, "job_status": 0, "events": 0}),
    ],
)
def test_per_job_counts_what_the_control_plane_wrote(writes, jobs, want):
    assert per_job(writes, jobs) == want


def test_store_floor_makes_those_writes(database_url, tmp_path):
    platform = open_platform(Settings(data_dir=tmp_path / "data", database_url=database_url))
    try:
        platform.client.create(registry.NAMESPACE, {"metadata": {"name": NAMESPACE}})
        counts = {"pod_status": 2, "job_status": 3, "events": 3}
        seconds = store_floor(platform, NAMESPACE, NODE, job_manifest, counts, 4)
        assert seconds > 0
        made = Counter()
        for resource, kind, n in store_writes(platform):
            made[(resource, kind.split()[0])] += n
        assert made == {
            (JOB, "ADDED"): 4,
            (POD, "ADDED"): 4,
            (POD, "MODIFIED"): 8,
            (JOB, "MODIFIED"): 12,
            (EVENT, "ADDED"): 12,
        }
        assert per_job(store_writes(platform), 4) == {**counts, "pod_status": 1}
    finally:
        platform.close()
