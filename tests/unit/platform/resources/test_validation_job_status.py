"""Job status writes: the order in which a controller may finish a Job."""

import copy

import pytest

from berth.platform.resources import registry, strategy

T0, T1 = "2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z"


def a_job(**spec):
    job = {
        "metadata": {"name": "pi", "namespace": "default", "uid": "u", "creationTimestamp": T0},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "c", "image": "busybox"}],
                }
            },
            **spec,
        },
    }
    strategy.prepare_for_create(registry.JOB, job)
    return job


def cond(ctype, status="True"):
    return {"type": ctype, "status": status}


def status_causes(old_status, new_status, **spec):
    old = a_job(**spec)
    old["status"] = old_status
    new = copy.deepcopy(old)
    new["status"] = new_status
    strategy.prepare_for_update(registry.JOB, new, old)
    return [(c.field, c.reason) for c in strategy.validate_status_update(registry.JOB, new, old)]


RUNNING = {"startTime": T0, "active": 1}
SUCCEEDING = {
    "startTime": T0,
    "active": 0,
    "succeeded": 1,
    "conditions": [cond("SuccessCriteriaMet")],
}
FAILING = {"startTime": T0, "active": 0, "failed": 7, "conditions": [cond("FailureTarget")]}


@pytest.mark.parametrize(
    "old,new",
    [
        ({}, RUNNING),
        (RUNNING, SUCCEEDING),
        (
            SUCCEEDING,
            {
                **SUCCEEDING,
                "completionTime": T1,
                "conditions": [cond("SuccessCriteriaMet"), cond("Complete")],
            },
        ),
        (RUNNING, FAILING),
        (FAILING, {**FAILING, "conditions": [cond("FailureTarget"), cond("Failed")]}),
        (RUNNING, {**RUNNING, "ready": 1, "terminating": 0}),
    ],
)
def test_the_controllers_way_to_finish_is_accepted(old, new):
    assert status_causes(old, new) == []


@pytest.mark.parametrize(
    "old,new,field,reason",
    [
        ({}, {"active": -1}, "status.active", "FieldValueInvalid"),
        (
            RUNNING,
            {**RUNNING, "conditions": [cond("Complete")]},
            "status.completionTime",
            "FieldValueRequired",
        ),
        (RUNNING, {**RUNNING, "completionTime": T1}, "status.completionTime", "FieldValueInvalid"),
        (
            RUNNING,
            {**RUNNING, "active": 1, "conditions": [cond("Failed")]},
            "status.active",
            "FieldValueInvalid",
        ),
        ({}, {"conditions": [cond("Failed")]}, "status.startTime", "FieldValueRequired"),
        (
            RUNNING,
            {
                **RUNNING,
                "active": 0,
                "completionTime": T1,
                "conditions": [cond("Complete"), cond("Failed")],
            },
            "status.conditions",
            "FieldValueInvalid",
        ),
        (
            {**FAILING, "conditions": [cond("Failed")]},
            FAILING,
            "status.conditions",
            "FieldValueInvalid",
        ),
        ({**RUNNING, "failed": 3}, {**RUNNING, "failed": 2}, "status.failed", "FieldValueInvalid"),
        (
            {**RUNNING, "succeeded": 3},
            {**RUNNING, "succeeded": 2},
            "status.succeeded",
            "FieldValueInvalid",
        ),
        (RUNNING, {**RUNNING, "startTime": None}, "status.startTime", "FieldValueRequired"),
        (
            RUNNING,
            {**RUNNING, "conditions": [cond("SuccessCriteriaMet"), cond("FailureTarget")]},
            "status.conditions",
            "FieldValueInvalid",
        ),
        (SUCCEEDING, {**SUCCEEDING, "conditions": []}, "status.conditions", "FieldValueInvalid"),
        (
            RUNNING,
            {**RUNNING, "uncountedTerminatedPods": {"succeeded": ["a"], "failed": ["a"]}},
            "status.uncountedTerminatedPods.failed[0]",
            "FieldValueDuplicate",
        ),
        (
            {**RUNNING, "completionTime": T1},
            {**RUNNING, "completionTime": T0},
            "status.completionTime",
            "FieldValueInvalid",
        ),
        (
            RUNNING,
            {**RUNNING, "completedIndexes": "1"},
            "status.completedIndexes",
            "FieldValueInvalid",
        ),
    ],
)
def test_status_rules(old, new, field, reason):
    assert (field, reason) in status_causes(old, new)


def test_indexed_status_indexes():
    indexed = dict(completionMode="Indexed", completions=4, backoffLimitPerIndex=1)
    assert (
        status_causes(
            RUNNING, {**RUNNING, "completedIndexes": "0,2", "failedIndexes": "1"}, **indexed
        )
        == []
    )
    assert ("status.completedIndexes", "FieldValueInvalid") in status_causes(
        RUNNING, {**RUNNING, "completedIndexes": "0,5"}, **indexed
    )
    assert ("status.failedIndexes", "FieldValueInvalid") in status_causes(
        RUNNING, {**RUNNING, "completedIndexes": "0-2", "failedIndexes": "2"}, **indexed
    )


def test_elastic_indexed_job_may_lose_successes():
    elastic = dict(completionMode="Indexed", completions=2, parallelism=2)
    assert status_causes({**RUNNING, "succeeded": 3}, {**RUNNING, "succeeded": 2}, **elastic) == []


def test_suspended_job_may_reset_its_start_time():
    assert status_causes(RUNNING, {"active": 0}, suspend=True) == []
