"""berth.dev/gpu-milli: a share of one GPU, 1..1000, never beside whole GPUs (422 causes)."""

import copy

import pytest

from berth.platform.resources import registry, strategy

MILLI = "berth.dev/gpu-milli"
META = {
    "name": "p",
    "namespace": "default",
    "uid": "u",
    "creationTimestamp": "2026-01-01T00:00:00Z",
}


def pod(*limits: dict, init: dict | None = None) -> dict:
    containers = [
        {"name": f"c{i}", "image": "busybox", "resources": {"limits": lim}}
        for i, lim in enumerate(limits)
    ]
    spec = {"containers": containers, "restartPolicy": "Never"}
    if init is not None:
        spec["initContainers"] = [
            {"name": "init", "image": "busybox", "resources": {"limits": init}}
        ]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": dict(META), "spec": spec}


def causes(body: dict) -> list[tuple[str, str]]:
    body = copy.deepcopy(body)
    strategy.prepare_for_create(registry.POD, body)
    return [(c.field, c.message) for c in strategy.validate_create(registry.POD, body)]


@pytest.mark.parametrize(
    "limits",
    [
        ({MILLI: "1"},),
        ({MILLI: "460"},),
        ({MILLI: "1000"},),
        ({MILLI: "300"}, {MILLI: "700"}),
    ],
)
def test_valid_shares(limits):
    assert causes(pod(*limits)) == []


@pytest.mark.parametrize(
    "body, field, words",
    [
        (pod({MILLI: "1500"}), f"spec.containers[0].resources.limits[{MILLI}]", "1 to 1000"),
        (pod({MILLI: "0"}), f"spec.containers[0].resources.limits[{MILLI}]", "1 to 1000"),
        (pod({MILLI: "2.5"}), f"spec.containers[0].resources.limits[{MILLI}]", "integer"),
        (pod({MILLI: "600"}, {MILLI: "600"}), "spec.containers", "more than one GPU"),
        (
            pod({MILLI: "500", "nvidia.com/gpu": "1"}),
            f"spec.containers[0].resources.limits[{MILLI}]",
            "combined",
        ),
        (
            pod({MILLI: "500"}, init={MILLI: "1001"}),
            f"spec.initContainers[0].resources.limits[{MILLI}]",
            "1 to 1000",
        ),
    ],
)
def test_bad_shares_name_the_field(body, field, words):
    found = causes(body)
    assert any(f == field and words in m for f, m in found), found
