"""Job validation on create and update."""

import copy

import pytest

from berth.platform.resources import registry, strategy

UID = "d0a01441-c7e5-4dc3-8477-9542619116bc"


def a_job(name="pi", template=None, **spec):
    pod = {"restartPolicy": "Never", "containers": [{"name": "pi", "image": "busybox"}]}
    pod.update(template or {})
    md = {
        "name": name,
        "namespace": "default",
        "uid": UID,
        "creationTimestamp": "2026-01-01T00:00:00Z",
    }
    return {"metadata": md, "spec": {"template": {"spec": pod}, **spec}}


def labelled(job, labels):
    job["spec"]["template"]["metadata"] = {"labels": labels}
    return job


def created(job):
    job = copy.deepcopy(job)
    strategy.prepare_for_create(registry.JOB, job)
    return job


def causes(job):
    return [(c.field, c.reason) for c in strategy.validate_create(registry.JOB, created(job))]


def exit_rule(**on_exit):
    return {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42], **on_exit}}


INDEXED = dict(completionMode="Indexed", completions=5)
CASES = [
    (
        "restart Always",
        a_job(template={"restartPolicy": "Always"}),
        "spec.template.spec.restartPolicy",
        "FieldValueRequired",
    ),
    (
        "restart unset",
        a_job(template={"restartPolicy": None}),
        "spec.template.spec.restartPolicy",
        "FieldValueRequired",
    ),
    (
        "restart bogus",
        a_job(template={"restartPolicy": "Sometimes"}),
        "spec.template.spec.restartPolicy",
        "FieldValueNotSupported",
    ),
    (
        "failure policy needs Never",
        a_job(template={"restartPolicy": "OnFailure"}, podFailurePolicy={"rules": [exit_rule()]}),
        "spec.template.spec.restartPolicy",
        "FieldValueInvalid",
    ),
    ("negative parallelism", a_job(parallelism=-1), "spec.parallelism", "FieldValueInvalid"),
    ("negative completions", a_job(completions=-1), "spec.completions", "FieldValueInvalid"),
    ("negative backoff", a_job(backoffLimit=-1), "spec.backoffLimit", "FieldValueInvalid"),
    (
        "negative ttl",
        a_job(ttlSecondsAfterFinished=-1),
        "spec.ttlSecondsAfterFinished",
        "FieldValueInvalid",
    ),
    (
        "negative deadline",
        a_job(activeDeadlineSeconds=-5),
        "spec.activeDeadlineSeconds",
        "FieldValueInvalid",
    ),
    (
        "completion mode",
        a_job(completionMode="Random"),
        "spec.completionMode",
        "FieldValueNotSupported",
    ),
    (
        "indexed without completions",
        a_job(completionMode="Indexed", parallelism=2),
        "spec.completions",
        "FieldValueRequired",
    ),
    (
        "per-index on NonIndexed",
        a_job(backoffLimitPerIndex=1),
        "spec.backoffLimitPerIndex",
        "FieldValueInvalid",
    ),
    (
        "max failed without per-index",
        a_job(maxFailedIndexes=1, **INDEXED),
        "spec.backoffLimitPerIndex",
        "FieldValueRequired",
    ),
    (
        "max failed above completions",
        a_job(maxFailedIndexes=6, backoffLimitPerIndex=1, **INDEXED),
        "spec.maxFailedIndexes",
        "FieldValueInvalid",
    ),
    (
        "huge indexed parallelism",
        a_job(parallelism=100001, **INDEXED),
        "spec.parallelism",
        "FieldValueInvalid",
    ),
    (
        "huge per-index job",
        a_job(completionMode="Indexed", completions=100001, backoffLimitPerIndex=1),
        "spec.maxFailedIndexes",
        "FieldValueRequired",
    ),
    (
        "rule without action",
        a_job(podFailurePolicy={"rules": [{"onExitCodes": {"operator": "In", "values": [1]}}]}),
        "spec.podFailurePolicy.rules[0].action",
        "FieldValueRequired",
    ),
    (
        "unknown action",
        a_job(
            podFailurePolicy={
                "rules": [
                    exit_rule(),
                    {"action": "Retry", "onExitCodes": {"operator": "In", "values": [1]}},
                ]
            }
        ),
        "spec.podFailurePolicy.rules[1].action",
        "FieldValueNotSupported",
    ),
    (
        "FailIndex without per-index",
        a_job(
            podFailurePolicy={
                "rules": [{"action": "FailIndex", "onExitCodes": {"operator": "In", "values": [1]}}]
            }
        ),
        "spec.podFailurePolicy.rules[0].action",
        "FieldValueInvalid",
    ),
    (
        "both requirements",
        a_job(
            podFailurePolicy={
                "rules": [
                    {
                        "action": "Ignore",
                        "onExitCodes": {"operator": "In", "values": [1]},
                        "onPodConditions": [{"type": "DisruptionTarget"}],
                    }
                ]
            }
        ),
        "spec.podFailurePolicy.rules[0]",
        "FieldValueInvalid",
    ),
    (
        "no requirement",
        a_job(podFailurePolicy={"rules": [{"action": "Ignore"}]}),
        "spec.podFailurePolicy.rules[0]",
        "FieldValueInvalid",
    ),
    (
        "exit operator",
        a_job(podFailurePolicy={"rules": [exit_rule(operator="Is")]}),
        "spec.podFailurePolicy.rules[0].onExitCodes.operator",
        "FieldValueNotSupported",
    ),
    (
        "exit code 0 with In",
        a_job(podFailurePolicy={"rules": [exit_rule(values=[0, 1])]}),
        "spec.podFailurePolicy.rules[0].onExitCodes.values[0]",
        "FieldValueInvalid",
    ),
    (
        "duplicate exit code",
        a_job(podFailurePolicy={"rules": [exit_rule(values=[1, 1])]}),
        "spec.podFailurePolicy.rules[0].onExitCodes.values[1]",
        "FieldValueDuplicate",
    ),
    (
        "unordered exit codes",
        a_job(podFailurePolicy={"rules": [exit_rule(values=[3, 2])]}),
        "spec.podFailurePolicy.rules[0].onExitCodes.values",
        "FieldValueInvalid",
    ),
    (
        "no exit codes",
        a_job(podFailurePolicy={"rules": [exit_rule(values=[])]}),
        "spec.podFailurePolicy.rules[0].onExitCodes.values",
        "FieldValueInvalid",
    ),
    (
        "too many exit codes",
        a_job(podFailurePolicy={"rules": [exit_rule(values=list(range(1, 257)))]}),
        "spec.podFailurePolicy.rules[0].onExitCodes.values",
        "FieldValueTooMany",
    ),
    (
        "unknown container",
        a_job(podFailurePolicy={"rules": [exit_rule(containerName="x")]}),
        "spec.podFailurePolicy.rules[0].onExitCodes.containerName",
        "FieldValueInvalid",
    ),
    (
        "condition status",
        a_job(
            podFailurePolicy={
                "rules": [
                    {
                        "action": "Ignore",
                        "onPodConditions": [{"type": "DisruptionTarget", "status": "Maybe"}],
                    }
                ]
            }
        ),
        "spec.podFailurePolicy.rules[0].onPodConditions[0].status",
        "FieldValueNotSupported",
    ),
    (
        "replacement with failure policy",
        a_job(
            podReplacementPolicy="TerminatingOrFailed", podFailurePolicy={"rules": [exit_rule()]}
        ),
        "spec.podReplacementPolicy",
        "FieldValueNotSupported",
    ),
    (
        "replacement policy",
        a_job(podReplacementPolicy="Whenever"),
        "spec.podReplacementPolicy",
        "FieldValueNotSupported",
    ),
    (
        "success policy on NonIndexed",
        a_job(successPolicy={"rules": [{"succeededCount": 1}]}),
        "spec.successPolicy",
        "FieldValueInvalid",
    ),
    (
        "success policy without rules",
        a_job(successPolicy={"rules": []}, **INDEXED),
        "spec.successPolicy.rules",
        "FieldValueRequired",
    ),
    (
        "empty success rule",
        a_job(successPolicy={"rules": [{}]}, **INDEXED),
        "spec.successPolicy.rules[0]",
        "FieldValueRequired",
    ),
    (
        "bad succeeded indexes",
        a_job(successPolicy={"rules": [{"succeededIndexes": "0-7"}]}, **INDEXED),
        "spec.successPolicy.rules[0].succeededIndexes",
        "FieldValueInvalid",
    ),
    (
        "succeeded count above completions",
        a_job(successPolicy={"rules": [{"succeededCount": 6}]}, **INDEXED),
        "spec.successPolicy.rules[0].succeededCount",
        "FieldValueInvalid",
    ),
    (
        "succeeded count above indexes",
        a_job(
            successPolicy={"rules": [{"succeededCount": 3, "succeededIndexes": "0,2"}]}, **INDEXED
        ),
        "spec.successPolicy.rules[0].succeededCount",
        "FieldValueInvalid",
    ),
    ("manual selector missing", a_job(manualSelector=True), "spec.selector", "FieldValueRequired"),
    (
        "manual selector mismatch",
        a_job(manualSelector=True, selector={"matchLabels": {"app": "y"}}),
        "spec.template.metadata.labels",
        "FieldValueInvalid",
    ),
    (
        "conflicting job-name label",
        labelled(a_job(), {"job-name": "other"}),
        "spec.template.metadata.labels[job-name]",
        "FieldValueInvalid",
    ),
    ("indexed hostname", a_job(name="a" * 62, **INDEXED), "metadata.name", "FieldValueInvalid"),
    ("name longer than a label", a_job(name="a" * 64), "spec.template.labels", "FieldValueInvalid"),
    ("managedBy", a_job(managedBy="not-a-path"), "spec.managedBy", "FieldValueInvalid"),
]


@pytest.mark.parametrize("job,field,reason", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule(job, field, reason):
    assert (field, reason) in causes(job)


VALID = [
    ("one shot", a_job()),
    ("work queue", a_job(parallelism=4)),
    (
        "indexed with policies",
        a_job(
            backoffLimitPerIndex=1,
            maxFailedIndexes=2,
            podFailurePolicy={
                "rules": [
                    {"action": "FailIndex", "onExitCodes": {"operator": "In", "values": [1, 2, 3]}},
                    {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
                    {
                        "action": "Count",
                        "onExitCodes": {"containerName": "pi", "operator": "NotIn", "values": [0]},
                    },
                ]
            },
            successPolicy={"rules": [{"succeededIndexes": "0-2,4", "succeededCount": 3}]},
            **INDEXED,
        ),
    ),
    ("on failure restarts", a_job(template={"restartPolicy": "OnFailure"})),
    (
        "manual selector",
        labelled(a_job(manualSelector=True, selector={"matchLabels": {"app": "x"}}), {"app": "x"}),
    ),
]


@pytest.mark.parametrize("job", [v[1] for v in VALID], ids=[v[0] for v in VALID])
def test_valid_job(job):
    assert causes(job) == []


def test_restart_policy_message():
    messages = [
        c.message
        for c in strategy.validate_create(
            registry.JOB, created(a_job(template={"restartPolicy": "Always"}))
        )
    ]
    assert messages == ['Required value: valid values: "OnFailure", "Never"']


# -- updates ----------------------------------------------------------------------------------
def update_causes(old, mutate, status=None):
    old = created(old)
    if status:
        old["status"] = status
    new = copy.deepcopy(old)
    mutate(new)
    strategy.prepare_for_update(registry.JOB, new, old)
    return [(c.field, c.reason) for c in strategy.validate_update(registry.JOB, new, old)]


def set_path(*path, value):
    def mutate(obj):
        target = obj
        for key in path[:-1]:
            target = target.setdefault(key, {})
        target[path[-1]] = value

    return mutate


@pytest.mark.parametrize(
    "old,mutate,field",
    [
        (
            a_job(),
            set_path(
                "spec",
                "template",
                "spec",
                "containers",
                value=[{"name": "pi", "image": "busybox:2"}],
            ),
            "spec.template",
        ),
        (a_job(), set_path("spec", "completions", value=3), "spec.completions"),
        (a_job(), set_path("spec", "completionMode", value="Indexed"), "spec.completionMode"),
        (a_job(), set_path("spec", "selector", value={"matchLabels": {"x": "y"}}), "spec.selector"),
        (
            a_job(podFailurePolicy={"rules": [exit_rule()]}),
            set_path("spec", "podFailurePolicy", value={"rules": [exit_rule(values=[7])]}),
            "spec.podFailurePolicy",
        ),
        (a_job(**INDEXED), set_path("spec", "completions", value=7), "spec.completions"),
        (
            a_job(suspend=True),
            set_path("spec", "template", "spec", "nodeSelector", value={"gpu": "nvidia"}),
            "spec.template",
        ),
    ],
)
def test_immutable_fields(old, mutate, field):
    status = {"startTime": "2026-01-01T00:00:00Z"} if old["spec"].get("suspend") else None
    assert (field, "FieldValueInvalid") in update_causes(old, mutate, status)


@pytest.mark.parametrize(
    "old,mutate",
    [
        (a_job(), set_path("spec", "parallelism", value=5)),
        (a_job(), set_path("spec", "suspend", value=True)),
        (a_job(), set_path("spec", "activeDeadlineSeconds", value=60)),
        (a_job(), set_path("metadata", "labels", "team", value="a")),
        (
            a_job(suspend=True),
            set_path("spec", "template", "spec", "nodeSelector", value={"gpu": "nvidia"}),
        ),
        (
            a_job(suspend=True),
            set_path(
                "spec",
                "template",
                "spec",
                "tolerations",
                value=[{"key": "gpu", "operator": "Exists"}],
            ),
        ),
        (
            a_job(suspend=True),
            set_path(
                "spec",
                "template",
                "spec",
                "affinity",
                value={
                    "nodeAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [
                                {"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}
                            ]
                        }
                    }
                },
            ),
        ),
        (a_job(parallelism=5, **INDEXED), lambda j: j["spec"].update(completions=8, parallelism=8)),
    ],
)
def test_allowed_updates(old, mutate):
    assert update_causes(old, mutate) == []
