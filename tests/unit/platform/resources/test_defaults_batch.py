"""Job and CronJob defaults, and the selector and labels a new Job gets."""

import copy

import pytest

from berth.platform.resources import registry, strategy

UID = "1dce6d3c-fd76-4fac-a7f5-09ca0a4e39a5"
TEMPLATE = {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}


def a_job(labels=None, template_labels=None, **spec):
    template = copy.deepcopy(TEMPLATE)
    if template_labels is not None:
        template["metadata"] = {"labels": template_labels}
    md = {
        "name": "ap",
        "namespace": "default",
        "uid": UID,
        "creationTimestamp": "2026-11-25T19:25:41Z",
    }
    if labels is not None:
        md["labels"] = labels
    return {"metadata": md, "spec": {"template": template, **spec}}


def created(job):
    strategy.prepare_for_create(registry.JOB, job)
    return job


@pytest.mark.parametrize(
    "given,expected",
    [
        ({}, {"completions": 1, "parallelism": 1}),
        ({"parallelism": 3}, {"parallelism": 3}),  # a work queue: completions stay unset
        ({"completions": 5}, {"completions": 5, "parallelism": 1}),
        ({"completions": 5, "parallelism": 2}, {"completions": 5, "parallelism": 2}),
    ],
)
def test_completions_and_parallelism(given, expected):
    spec = created(a_job(**given))["spec"]
    assert {k: spec[k] for k in ("completions", "parallelism") if k in spec} == expected


def test_job_spec_defaults():
    spec = created(a_job())["spec"]
    assert {
        k: spec[k]
        for k in (
            "backoffLimit",
            "completionMode",
            "suspend",
            "podReplacementPolicy",
            "manualSelector",
        )
    } == {
        "backoffLimit": 6,
        "completionMode": "NonIndexed",
        "suspend": False,
        "podReplacementPolicy": "TerminatingOrFailed",
        "manualSelector": False,
    }


def test_backoff_limit_per_index_lifts_the_backoff_limit():
    spec = created(a_job(completionMode="Indexed", completions=3, backoffLimitPerIndex=1))["spec"]
    assert spec["backoffLimit"] == 2**31 - 1


def test_pod_failure_policy_defaults():
    spec = created(
        a_job(
            podFailurePolicy={
                "rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]
            }
        )
    )["spec"]
    assert spec["podReplacementPolicy"] == "Failed"
    assert spec["podFailurePolicy"]["rules"][0]["onPodConditions"][0]["status"] == "True"


def test_generated_selector_and_labels():
    job = created(a_job(labels={"app": "x"}, template_labels={"app": "x"}))
    generated = {
        "batch.kubernetes.io/controller-uid": UID,
        "batch.kubernetes.io/job-name": "ap",
        "controller-uid": UID,
        "job-name": "ap",
    }
    assert job["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": UID}}
    assert job["spec"]["template"]["metadata"]["labels"] == {"app": "x", **generated}
    assert job["metadata"]["labels"] == {"app": "x"}  # the user's own labels stay as given
    assert job["status"] == {}


@pytest.mark.parametrize("template_labels", [None, {"app": "x"}])
def test_a_job_without_labels_wears_its_templates(template_labels):
    job = created(a_job(template_labels=template_labels))
    assert job["metadata"]["labels"] == job["spec"]["template"]["metadata"]["labels"]
    assert job["metadata"]["labels"]["job-name"] == "ap"


def test_manual_selector_generates_nothing():
    job = created(
        a_job(
            manualSelector=True,
            selector={"matchLabels": {"app": "x"}},
            template_labels={"app": "x"},
        )
    )
    assert job["spec"]["template"]["metadata"]["labels"] == {"app": "x"}
    assert job["spec"]["selector"] == {"matchLabels": {"app": "x"}}
    assert strategy.validate_create(registry.JOB, job) == []


def test_update_defaults_do_not_regenerate_the_selector():
    job = created(a_job())
    new = copy.deepcopy(job)
    del new["spec"]["selector"]
    strategy.prepare_for_update(registry.JOB, new, job)
    assert "selector" not in new["spec"]
    causes = strategy.validate_update(registry.JOB, new, job)
    assert ("spec.selector", "FieldValueRequired") in [(c.field, c.reason) for c in causes]


def test_cron_job_defaults():
    cj = {
        "metadata": {"name": "c", "namespace": "default", "uid": "u"},
        "spec": {
            "schedule": "* * * * *",
            "jobTemplate": {
                "spec": {
                    "podFailurePolicy": {
                        "rules": [
                            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}
                        ]
                    },
                    "template": copy.deepcopy(TEMPLATE),
                }
            },
        },
    }
    strategy.prepare_for_create(registry.CRON_JOB, cj)
    spec = cj["spec"]
    assert {
        k: spec[k]
        for k in (
            "concurrencyPolicy",
            "suspend",
            "successfulJobsHistoryLimit",
            "failedJobsHistoryLimit",
        )
    } == {
        "concurrencyPolicy": "Allow",
        "suspend": False,
        "successfulJobsHistoryLimit": 3,
        "failedJobsHistoryLimit": 1,
    }
    job_spec = spec["jobTemplate"]["spec"]
    # The template of Jobs gets pod defaults only; the Jobs made from it get the rest.
    assert not {"completions", "parallelism", "backoffLimit", "selector", "manualSelector"} & set(
        job_spec
    )
    assert job_spec["template"]["spec"]["terminationGracePeriodSeconds"] == 30
    assert job_spec["podFailurePolicy"]["rules"][0]["onPodConditions"][0]["status"] == "True"
    assert cj["status"] == {}
