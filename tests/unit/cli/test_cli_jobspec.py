"""The Job ``berth run`` submits, from its options."""

from __future__ import annotations

import random

import pytest

from berth.cli.jobspec import RunOptions, build_job, parse_env, random_name


def job_for(**options) -> dict:
    return build_job(RunOptions(**{"command": ["python3", "train.py"], "name": "r", **options}))


def container(job: dict) -> dict:
    (only,) = job["spec"]["template"]["spec"]["containers"]
    return only


def test_minimal_job_runs_the_command_once_and_never_restarts():
    job = job_for()
    assert job["apiVersion"] == "batch/v1" and job["kind"] == "Job"
    assert job["metadata"] == {"name": "r", "namespace": "default"}
    assert job["spec"] == {
        "template": {
            "spec": {
                "restartPolicy": "Never",
                "containers": [
                    {"name": "main", "image": "berth/host", "command": ["python3", "train.py"]}
                ],
            }
        }
    }


@pytest.mark.parametrize(
    "options, expected",
    [
        ({"cpu": "2"}, {"cpu": "2"}),
        ({"memory": "4Gi"}, {"memory": "4Gi"}),
        ({"gpus": 1}, {"nvidia.com/gpu": "1"}),
        (
            {"cpu": "500m", "memory": "1Gi", "gpus": 2},
            {"cpu": "500m", "memory": "1Gi", "nvidia.com/gpu": "2"},
        ),
    ],
)
def test_requests_equal_limits(options, expected):
    resources = container(job_for(**options))["resources"]
    assert resources == {"requests": expected, "limits": expected}
    assert resources["requests"] is not resources["limits"]


def test_no_resources_when_none_asked():
    assert "resources" not in container(job_for(gpus=0))


@pytest.mark.parametrize(
    "options, spec",
    [
        ({"completions": 4, "parallelism": 2}, {"completions": 4, "parallelism": 2}),
        ({"completions": 3, "indexed": True}, {"completions": 3, "completionMode": "Indexed"}),
        ({"backoff_limit": 0}, {"backoffLimit": 0}),
        ({"parallelism": 5}, {"parallelism": 5}),
    ],
)
def test_job_shape_options(options, spec):
    got = job_for(**options)["spec"]
    assert {k: v for k, v in got.items() if k != "template"} == spec


def test_env_image_and_namespace():
    job = job_for(env={"A": "1", "B": "x=y"}, image="python:3.11", namespace="team")
    assert container(job)["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "x=y"}]
    assert container(job)["image"] == "python:3.11"
    assert job["metadata"]["namespace"] == "team"


def test_a_command_is_required():
    with pytest.raises(ValueError, match="command"):
        job_for(command=[])


@pytest.mark.parametrize(
    "pairs, env",
    [
        ([], {}),
        (["A=1"], {"A": "1"}),
        (["A=1", "B="], {"A": "1", "B": ""}),
        (["URL=http://x/?a=b"], {"URL": "http://x/?a=b"}),
    ],
)
def test_parse_env(pairs, env):
    assert parse_env(pairs) == env


@pytest.mark.parametrize("bad", ["A", "=1", ""])
def test_parse_env_rejects(bad):
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_env([bad])


def test_random_names_are_dns_labels_and_differ():
    rng = random.Random(7)
    names = {random_name(rng) for _ in range(50)}
    assert len(names) == 50
    for name in names:
        assert name.startswith("run-") and len(name) == 9
        assert name[4:].isalnum() and name == name.lower()
