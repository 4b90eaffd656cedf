"""Strict decoding: unknown fields and wrong types, worded as the API server words them."""

import time

import pytest

from berth.platform.resources import schema


def a_job(**spec):
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pi", "labels": {"a": "b"}},
        "spec": {
            "backoffLimit": 2,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "pi", "image": "busybox", "command": ["echo"]}],
                }
            },
            **spec,
        },
    }


def test_a_valid_job_has_no_findings():
    job = a_job(completions=3, activeDeadlineSeconds=2**40)
    job["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "limits": {"cpu": 2, "memory": "1Gi"},
        "requests": {"cpu": "500m", "nvidia.com/gpu": 1.0},
    }
    job["status"] = {"startTime": "2026-11-25T19:17:52Z", "conditions": None}
    assert schema.unknown_fields("Job", job) == []
    assert schema.type_errors("Job", job) == []


@pytest.mark.parametrize(
    "patch, paths",
    [
        ({"foo": 1}, ["spec.foo"]),
        ({"Completions": 1}, ["spec.Completions"]),  # field names are case-sensitive
        (
            {
                "template": {
                    "spec": {"containers": [{"name": "a"}, {"name": "b", "imagePullPolicyy": "x"}]}
                }
            },
            ["spec.template.spec.containers[1].imagePullPolicyy"],
        ),
        (
            {"template": {"metadata": {"labelz": {}}, "spec": {"bogus": True}}},
            ["spec.template.metadata.labelz", "spec.template.spec.bogus"],
        ),
        (
            {"selector": {"matchExpressions": [{"key": "k", "operator": "In", "valuez": []}]}},
            ["spec.selector.matchExpressions[0].valuez"],
        ),
    ],
)
def test_unknown_fields_are_reported_as_paths(patch, paths):
    assert schema.unknown_fields("Job", a_job(**patch)) == paths


def test_unknown_top_level_and_free_form_fields():
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "c",
            "managedFields": [{"manager": "m", "fieldsV1": {"f:data": {"f:anything": {}}}}],
        },
        "data": {"any-key": "v"},
        "extra": 1,
    }
    assert schema.unknown_fields("ConfigMap", cm) == ["extra"]


@pytest.mark.parametrize(
    "kind, obj, message",
    [
        (
            "Job",
            a_job(completions="3"),
            "json: cannot unmarshal string into Go struct "
            "field JobSpec.spec.completions of type int32",
        ),
        (
            "Job",
            a_job(activeDeadlineSeconds=True),
            "json: cannot unmarshal bool into Go struct "
            "field JobSpec.spec.activeDeadlineSeconds of "
            "type int64",
        ),
        (
            "Job",
            a_job(parallelism=1.5),
            "json: cannot unmarshal number 1.5 into Go struct "
            "field JobSpec.spec.parallelism of type int32",
        ),
        (
            "Job",
            a_job(parallelism=2**31),
            "json: cannot unmarshal number 2147483648 into "
            "Go struct field JobSpec.spec.parallelism of "
            "type int32",
        ),
        (
            "Job",
            a_job(suspend="yes"),
            "json: cannot unmarshal string into Go struct field JobSpec.spec.suspend of type bool",
        ),
        (
            "Job",
            a_job(template="x"),
            "json: cannot unmarshal string into Go struct field JobSpec.spec.template of type "
            "v1.PodTemplateSpec",
        ),
        (
            "Job",
            {"spec": "x"},
            "json: cannot unmarshal string into Go struct field Job.spec of type v1.JobSpec",
        ),
        (
            "Job",
            a_job(template={"spec": {"containers": {"name": "a"}}}),
            "json: cannot unmarshal object into Go struct "
            "field PodSpec.spec.template.spec.containers of "
            "type []v1.Container",
        ),
        (
            "Job",
            a_job(template={"spec": {"containers": [{"name": "a", "command": "echo hi"}]}}),
            "json: cannot unmarshal string into Go struct "
            "field Container.spec.template.spec.containers."
            "command of type []string",
        ),
        (
            "Job",
            a_job(template={"spec": {"containers": [{"name": "a", "args": [1]}]}}),
            "json: cannot unmarshal number into Go struct "
            "field Container.spec.template.spec.containers."
            "args of type string",
        ),
        (
            "ConfigMap",
            {"data": {"a": 1}},
            "json: cannot unmarshal number into Go struct field ConfigMap.data of type string",
        ),
        (
            "ConfigMap",
            {"metadata": {"labels": ["a"]}},
            "json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type "
            "map[string]string",
        ),
        ("Secret", {"data": {"a": "not base64!"}}, "illegal base64 data at input byte 3"),
        ("Secret", {"data": {"a": "abcde"}}, "illegal base64 data at input byte 4"),
        (
            "Secret",
            {"data": {"a": 5}},
            "json: cannot unmarshal number into Go struct field Secret.data of type []uint8",
        ),
        (
            "Event",
            {"count": "1"},
            "json: cannot unmarshal string into Go struct field Event.count of type int32",
        ),
        (
            "Job",
            {"status": {"startTime": "yesterday"}},
            'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": '
            'cannot parse "yesterday" as "2006"',
        ),
        (
            "Job",
            {"status": {"startTime": 5}},
            "json: cannot unmarshal number into Go struct "
            "field JobStatus.status.startTime of type v1.Time",
        ),
    ],
)
def test_type_errors(kind, obj, message):
    assert schema.type_errors(kind, obj) == [message]


@pytest.mark.parametrize(
    "value, ok",
    [
        ("500m", True),
        (2, True),
        (0.5, True),
        ("1Gi", True),
        ("lots", False),
        (True, False),
        ({"a": 1}, False),
        ([1], False),
    ],
)
def test_quantities_accept_strings_and_numbers(value, ok):
    job = a_job(
        template={"spec": {"containers": [{"name": "a", "resources": {"limits": {"cpu": value}}}]}}
    )
    errors = schema.type_errors("Job", job)
    assert (errors == []) is ok
    if not ok:
        assert errors[0].startswith("quantities must match the regular expression")


@pytest.mark.parametrize(
    "port, ok", [(8080, True), ("http", True), (True, False), ([1], False), (1.5, False)]
)
def test_int_or_string_ports(port, ok):
    probe = {"httpGet": {"port": port, "path": "/"}}
    job = a_job(template={"spec": {"containers": [{"name": "a", "livenessProbe": probe}]}})
    assert (schema.type_errors("Job", job) == []) is ok


def test_nulls_fit_every_type_and_unknown_kinds_are_not_checked():
    assert schema.type_errors("Job", a_job(completions=None, template=None)) == []
    assert schema.unknown_fields("Widget", {"anything": 1}) == []
    assert schema.type_errors("Widget", {"anything": 1}) == []


def test_decode_error_messages():
    assert schema.decode_error("Job", "batch/v1", ["spec.foo"]) == (
        'Job in version "v1" cannot be handled as a Job: strict decoding error: '
        'unknown field "spec.foo"'
    )
    assert schema.decode_error("Pod", "v1", ["spec.a", "spec.b"]) == (
        'Pod in version "v1" cannot be handled as a Pod: strict decoding error: '
        'unknown field "spec.a", unknown field "spec.b"'
    )
    message = schema.type_errors("Job", a_job(completions="3"))
    assert schema.decode_error("Job", "v1", message) == (
        'Job in version "v1" cannot be handled as a Job: json: cannot unmarshal string into Go '
        "struct field JobSpec.spec.completions of type int32"
    )


def test_go_names():
    assert [
        schema.go_name(m) for m in ("V1JobSpec", "CoreV1Event", "V1alpha3TopologyConstraint")
    ] == ["JobSpec", "Event", "TopologyConstraint"]
    assert schema.go_package("V1alpha3TopologyConstraint") == "v1alpha3"


def test_every_root_and_reference_resolves():
    models = schema.models()
    for kind, root in schema.roots().items():
        assert root in models, kind
    for fields in models.values():
        for ftype in fields.values():
            while ftype.item is not None:
                ftype = ftype.item
            assert ftype.kind != "model" or ftype.name in models


def test_fast_enough_for_every_request():
    job = a_job()
    job["spec"]["template"]["spec"]["containers"] *= 10
    schema.type_errors("Job", job)
    start = time.perf_counter()
    for _ in range(200):
        schema.unknown_fields("Job", job)
        schema.type_errors("Job", job)
    assert (time.perf_counter() - start) / 200 < 0.005
