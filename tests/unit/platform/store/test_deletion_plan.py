"""Delete semantics as a table: remove now, or mark and leave it to finalizers / the agent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from berth.platform.errors import BadRequest
from berth.platform.resources import registry
from berth.platform.store.deletion import FOREGROUND, ORPHAN, plan_delete, ready_to_remove

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def job(**md):
    return {"metadata": {"name": "j", "namespace": "default", **md}, "spec": {}}


def pod(node="", phase="Running", grace=None, **md):
    spec = {"nodeName": node} if node else {}
    if grace is not None:
        spec["terminationGracePeriodSeconds"] = grace
    return {
        "metadata": {"name": "p", "namespace": "default", **md},
        "spec": spec,
        "status": {"phase": phase},
    }


@pytest.mark.parametrize(
    "rt,obj,policy,grace,remove,finalizers,when",
    [
        (registry.CRON_JOB, job(), None, None, True, None, None),
        (registry.JOB, job(), "Background", None, True, None, None),
        (registry.JOB, job(), None, None, False, [ORPHAN], "2026-11-25T12:00:00Z"),
        (registry.JOB, job(), "Foreground", None, False, [FOREGROUND], "2026-11-25T12:00:00Z"),
        (
            registry.JOB,
            job(finalizers=["x/y"]),
            "Background",
            None,
            False,
            ["x/y"],
            "2026-11-25T12:00:00Z",
        ),
        (
            registry.JOB,
            job(finalizers=["x/y"]),
            "Orphan",
            None,
            False,
            ["x/y", ORPHAN],
            "2026-11-25T12:00:00Z",
        ),
        (registry.POD, pod(), None, None, True, None, None),
        (registry.POD, pod(node="n1", phase="Succeeded"), None, None, True, None, None),
        (registry.POD, pod(node="n1"), None, None, False, None, "2026-11-25T12:00:30Z"),
        (registry.POD, pod(node="n1", grace=5), None, None, False, None, "2026-11-25T12:00:05Z"),
        (registry.POD, pod(node="n1"), None, 0, True, None, None),
        (
            registry.POD,
            pod(node="n1", deletionTimestamp="2026-11-25T11:59:00Z"),
            None,
            0,
            True,
            None,
            "2026-11-25T11:59:00Z",
        ),
        (
            registry.POD,
            pod(node="n1", deletionTimestamp="2026-11-25T11:59:00Z"),
            None,
            None,
            False,
            None,
            "2026-11-25T11:59:00Z",
        ),
    ],
)
def test_plan_delete(rt, obj, policy, grace, remove, finalizers, when):
    outcome = plan_delete(rt, obj, policy, grace, NOW)
    assert outcome.remove_now is remove
    md = outcome.obj["metadata"]
    assert md.get("finalizers") == finalizers
    assert md.get("deletionTimestamp") == when


def test_namespace_deletion_marks_it_terminating():
    ns = {
        "metadata": {"name": "team"},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }
    outcome = plan_delete(registry.NAMESPACE, ns, None, None, NOW)
    assert not outcome.remove_now
    assert outcome.obj["status"]["phase"] == "Terminating"
    assert not ready_to_remove(outcome.obj)  # the namespace controller empties it first


def test_unknown_policy_is_bad_request():
    with pytest.raises(BadRequest):
        plan_delete(registry.JOB, job(), "Sideways", None, NOW)


def test_forced_delete_of_a_marked_pod_with_finalizers_ends_its_grace():
    marked = pod(
        node="n1",
        deletionTimestamp="2026-11-25T11:59:00Z",
        deletionGracePeriodSeconds=30,
        finalizers=["batch.kubernetes.io/job-tracking"],
    )
    assert not ready_to_remove(marked)
    outcome = plan_delete(registry.POD, marked, None, 0, NOW)
    assert not outcome.remove_now
    assert outcome.obj["metadata"]["deletionGracePeriodSeconds"] == 0
    released = outcome.obj
    released["metadata"]["finalizers"] = []
    assert ready_to_remove(released)


def test_ready_to_remove_only_without_finalizers():
    assert ready_to_remove({"metadata": {"deletionTimestamp": "t"}})
    assert not ready_to_remove({"metadata": {"deletionTimestamp": "t", "finalizers": ["a"]}})
    assert not ready_to_remove({"metadata": {}})
    assert not ready_to_remove(
        {"metadata": {"deletionTimestamp": "t", "deletionGracePeriodSeconds": 30}}
    )
