"""The Job controller on a real store: one pod, fixed completions, Indexed Jobs, a work queue."""

from __future__ import annotations

import threading

from berth.platform.controllers.job import keys
from berth.platform.resources import registry
from tests.integration.controllers.job_harness import (
    active,
    condition,
    finished,
    stays,
    tracked,
    wait_for,
)


def test_a_single_pod_job_completes(cluster):
    cluster.start()
    cluster.create_job("pi")

    status = wait_for(lambda: finished(s := cluster.status("pi")) and s, "pi to finish")

    job = cluster.job("pi")
    assert [c["type"] for c in status["conditions"]] == [keys.SUCCESS_CRITERIA_MET, keys.COMPLETE]
    assert condition(status, keys.COMPLETE)["reason"] == keys.COMPLETIONS_REACHED
    assert status["succeeded"] == 1 and "failed" not in status and "active" not in status
    assert status["startTime"] and status["completionTime"]
    assert not status.get("uncountedTerminatedPods")
    pods = cluster.pods("pi")
    assert len(pods) == 1 and not tracked(pods)
    owner = pods[0]["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["uid"], owner["controller"]) == (
        "Job",
        job["metadata"]["uid"],
        True,
    )
    assert pods[0]["metadata"]["labels"][keys.CONTROLLER_UID] == job["metadata"]["uid"]
    reasons = wait_for(
        lambda: "Completed" in (r := cluster.reasons("pi")) and r, "the Completed event"
    )
    assert reasons == ["SuccessfulCreate", "Completed"]
    created = cluster.events("pi")[0]
    assert created["message"] == f"Created pod: {pods[0]['metadata']['name']}"
    assert created["source"]["component"] == "job-controller"


def test_parallelism_bounds_the_active_pods(cluster):
    most = {"active": 0}
    lock = threading.Lock()

    def observe(_old, _new):
        # Runs on the informer thread after every pod change, in resourceVersion order.
        with lock:
            now = len(active([p for p in cluster.plane.hub.informer(registry.POD).list()]))
            most["active"] = max(most["active"], now)

    cluster.observers.append(observe)
    release = threading.Event()
    # Pods run until two are up at once, then finish: the cap is reached and tested.
    cluster.kubelet.exit_code = lambda pod: 0 if release.is_set() else None
    cluster.start()
    cluster.create_job("par", completions=5, parallelism=2)

    wait_for(lambda: len(active(cluster.pods("par"))) == 2, "two running pods")
    stays(lambda: len(cluster.pods("par")) == 2, "no third pod while two are active")
    release.set()
    status = wait_for(lambda: finished(s := cluster.status("par")) and s, "par to finish")

    assert finished(status) == keys.COMPLETE
    assert status["succeeded"] == 5
    assert len(cluster.pods("par")) == 5, "exactly one pod per completion: none created twice"
    assert most["active"] == 2


def test_an_indexed_job_runs_each_index_once(cluster):
    cluster.start()
    cluster.create_job("idx", completions=4, parallelism=2, completionMode="Indexed")

    status = wait_for(lambda: finished(s := cluster.status("idx")) and s, "idx to finish")

    assert finished(status) == keys.COMPLETE
    assert status["completedIndexes"] == "0-3" and status["succeeded"] == 4
    pods = cluster.pods("idx")
    by_index = {p["metadata"]["annotations"][keys.COMPLETION_INDEX]: p for p in pods}
    assert sorted(by_index) == ["0", "1", "2", "3"] and len(pods) == 4
    for index, pod in by_index.items():
        assert pod["metadata"]["labels"][keys.COMPLETION_INDEX] == index
        assert pod["metadata"]["name"].startswith(f"idx-{index}-")
        assert pod["spec"]["hostname"] == f"idx-{index}"
        env = {e["name"]: e for e in pod["spec"]["containers"][0]["env"]}
        assert (
            env[keys.COMPLETION_INDEX_ENV]["valueFrom"]["fieldRef"]["fieldPath"]
            == f"metadata.labels['{keys.COMPLETION_INDEX}']"
        )


def test_a_work_queue_ends_when_one_pod_succeeded_and_the_rest_finished(cluster):
    first = threading.Event()
    rest = threading.Event()

    def exit_code(pod):
        names = sorted(p["metadata"]["name"] for p in cluster.pods("queue"))
        if first.is_set() and pod["metadata"]["name"] == names[0]:
            return 0
        return 0 if rest.is_set() else None

    cluster.kubelet.exit_code = exit_code
    cluster.start()
    cluster.create_job("queue", parallelism=3)
    wait_for(lambda: len(active(cluster.pods("queue"))) == 3, "three workers")

    first.set()
    wait_for(
        lambda: cluster.status("queue").get("succeeded") == 1, "the first worker to be counted"
    )
    stays(
        lambda: len(cluster.pods("queue")) == 3 and not finished(cluster.status("queue")),
        "no new worker once one succeeded, and no end while two still run",
    )
    rest.set()
    status = wait_for(lambda: finished(s := cluster.status("queue")) and s, "queue to finish")

    assert finished(status) == keys.COMPLETE
    assert status["succeeded"] == 3 and len(cluster.pods("queue")) == 3
