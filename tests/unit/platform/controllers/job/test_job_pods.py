"""Pods built from the Job template: name, owner, labels, finalizer, and the completion index."""

import random
import re

from berth.platform.controllers.job import keys, pod_for
from berth.platform.controllers.job.pods import generate_name
from tests.unit.platform.controllers.job.job_builders import a_job


def test_non_indexed_pod():
    job = a_job("pi").build()
    job["spec"]["template"]["metadata"]["annotations"] = {"team": "a"}
    pod = pod_for(job, None, random.Random(1))
    meta = pod["metadata"]
    assert re.fullmatch(r"pi-[bcdfghjklmnpqrstvwxz2456789]{5}", meta["name"])
    assert meta["generateName"] == "pi-" and meta["namespace"] == "default"
    assert meta["ownerReferences"] == [
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "name": "pi",
            "uid": "pi-uid",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert meta["finalizers"] == [keys.TRACKING_FINALIZER]
    assert meta["labels"] == {
        "batch.kubernetes.io/job-name": "pi",
        "batch.kubernetes.io/controller-uid": "pi-uid",
        "job-name": "pi",
        "controller-uid": "pi-uid",
    }
    assert meta["annotations"] == {"team": "a"}
    assert keys.COMPLETION_INDEX not in meta["annotations"]
    assert "hostname" not in pod["spec"]
    assert pod["spec"]["containers"][0].get("env") in (None, [])
    assert pod["status"] == {"phase": "Pending"}


def test_the_same_rng_gives_the_same_name_and_different_draws_differ():
    job = a_job("pi").build()
    assert (
        pod_for(job, None, random.Random(7))["metadata"]["name"]
        == pod_for(job, None, random.Random(7))["metadata"]["name"]
    )
    rng = random.Random(7)
    assert len({pod_for(job, None, rng)["metadata"]["name"] for _ in range(20)}) == 20


def test_indexed_pod_carries_its_index_everywhere():
    job = a_job("work", completions=5).indexed().build()
    job["spec"]["template"]["spec"]["subdomain"] = "svc"
    job["spec"]["template"]["spec"]["initContainers"] = [{"name": "init", "image": "busybox"}]
    pod = pod_for(job, 3, random.Random(2))
    meta = pod["metadata"]
    assert re.fullmatch(r"work-3-[a-z0-9]{5}", meta["name"]) and meta["generateName"] == "work-3-"
    assert meta["annotations"][keys.COMPLETION_INDEX] == "3"
    assert meta["labels"][keys.COMPLETION_INDEX] == "3"
    assert pod["spec"]["hostname"] == "work-3" and pod["spec"]["subdomain"] == "svc"
    env = {
        "name": "JOB_COMPLETION_INDEX",
        "valueFrom": {
            "fieldRef": {
                "apiVersion": "v1",
                "fieldPath": "metadata.labels['batch.kubernetes.io/job-completion-index']",
            }
        },
    }
    for container in pod["spec"]["containers"] + pod["spec"]["initContainers"]:
        assert env in container["env"]


def test_an_existing_index_env_var_is_kept():
    job = a_job("work", completions=2).indexed().build()
    job["spec"]["template"]["spec"]["containers"][0]["env"] = [
        {"name": "JOB_COMPLETION_INDEX", "value": "x"}
    ]
    pod = pod_for(job, 1, random.Random(0))
    assert pod["spec"]["containers"][0]["env"] == [{"name": "JOB_COMPLETION_INDEX", "value": "x"}]


def test_the_template_is_not_mutated():
    job = a_job("work", completions=2).indexed().build()
    before = repr(job)
    pod_for(job, 1, random.Random(0))
    assert repr(job) == before


def test_per_index_failure_counts_are_annotated():
    job = a_job("work", completions=2, backoffLimitPerIndex=2).indexed().build()
    pod = pod_for(job, 1, random.Random(0), index_failure_count=1, index_ignored_failure_count=2)
    assert pod["metadata"]["annotations"][keys.INDEX_FAILURE_COUNT] == "1"
    assert pod["metadata"]["annotations"][keys.INDEX_IGNORED_FAILURE_COUNT] == "2"
    fresh = pod_for(job, 0, random.Random(0), index_failure_count=0)
    assert fresh["metadata"]["annotations"][keys.INDEX_FAILURE_COUNT] == "0"
    assert keys.INDEX_IGNORED_FAILURE_COUNT not in fresh["metadata"]["annotations"]


def test_long_names_are_trimmed_to_fit_63_characters():
    long = "j" * 70
    assert generate_name(long, None) == "j" * 58
    assert generate_name(long, 12) == "j" * 54 + "-12-"
    assert len(pod_for(a_job(long).build(), None, random.Random(0))["metadata"]["name"]) == 63
