"""The interface the store calls: which rules apply when, and generation bumps."""

import copy

import pytest

from berth.platform.errors import Invalid
from berth.platform.resources import registry, strategy


def test_every_kind_has_rules():
    assert {rt.key for rt in registry.ALL} == set(strategy.RULES)


@pytest.mark.parametrize(
    "rt,tracks",
    [
        (registry.JOB, True),
        (registry.CRON_JOB, True),
        (registry.POD, True),
        (registry.CONFIG_MAP, False),
        (registry.SECRET, False),
        (registry.NAMESPACE, False),
        (registry.NODE, False),
        (registry.PERSISTENT_VOLUME, False),
        (registry.PERSISTENT_VOLUME_CLAIM, False),
        (registry.EVENT, False),
        (registry.STORAGE_CLASS, False),
        (registry.LEASE, False),
    ],
)
def test_tracks_generation(rt, tracks):
    assert strategy.tracks_generation(rt) is tracks


@pytest.mark.parametrize(
    "rt,old,new,changed",
    [
        (registry.JOB, {"spec": {"parallelism": 1}}, {"spec": {"parallelism": 2}}, True),
        (
            registry.JOB,
            {"spec": {"parallelism": 1}, "metadata": {"labels": {}}},
            {"spec": {"parallelism": 1}, "metadata": {"labels": {"a": "b"}}},
            False,
        ),
        (registry.JOB, {"spec": {}, "status": {}}, {"spec": {}, "status": {"active": 1}}, False),
        (registry.CRON_JOB, {"spec": {"suspend": False}}, {"spec": {"suspend": True}}, True),
        (registry.CONFIG_MAP, {"data": {"a": "1"}}, {"data": {"a": "2"}}, False),
        (registry.SECRET, {"data": {"a": "MQ=="}}, {"data": {"a": "Mg=="}}, False),
        (registry.NODE, {"spec": {}}, {"spec": {"unschedulable": True}}, False),
    ],
)
def test_spec_changed(rt, old, new, changed):
    assert strategy.spec_changed(rt, new, old) is changed


def test_cluster_scoped_objects_lose_a_namespace_on_create():
    node = {"metadata": {"name": "n1", "namespace": "default"}}
    strategy.prepare_for_create(registry.NODE, node)
    assert "namespace" not in node["metadata"]
    assert strategy.validate_create(registry.NODE, node) == []


def test_status_update_of_a_kind_without_status_uses_update_rules():
    old = {"metadata": {"name": "c", "namespace": "default"}, "data": {"a": "1"}}
    new = copy.deepcopy(old)
    new["data"] = {"bad key": "x"}
    assert [c.field for c in strategy.validate_status_update(registry.CONFIG_MAP, new, old)] == [
        "data[bad key]"
    ]


def test_status_update_rules_ignore_the_spec():
    """A Job status write is judged by the status rules, not by re-validating its spec."""
    job = {
        "metadata": {"name": "j", "namespace": "default", "uid": "u"},
        "spec": {
            "template": {
                "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "i"}]}
            }
        },
    }
    strategy.prepare_for_create(registry.JOB, job)
    new = copy.deepcopy(job)
    new["status"] = {"startTime": "2026-01-01T00:00:00Z", "active": 1}
    assert strategy.validate_status_update(registry.JOB, new, job) == []


def test_prepare_for_update_reapplies_defaults():
    old = {
        "metadata": {"name": "p", "namespace": "default", "uid": "u"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }
    strategy.prepare_for_create(registry.POD, old)
    new = copy.deepcopy(old)
    container = new["spec"]["containers"][0]
    container["image"] = "busybox:1.36"  # what `kubectl set image` changes
    del container["terminationMessagePolicy"], new["spec"]["schedulerName"]  # a terse client
    strategy.prepare_for_update(registry.POD, new, old)
    assert container["terminationMessagePolicy"] == "File"
    assert container["imagePullPolicy"] == "Always"  # set on create, kept
    assert strategy.validate_update(registry.POD, new, old) == []


def test_defaults_are_idempotent_for_every_kind():
    samples = {
        registry.POD: {"spec": {"containers": [{"name": "c", "image": "i"}]}},
        registry.JOB: {"spec": {"template": {"spec": {"containers": []}}}},
        registry.CRON_JOB: {"spec": {"jobTemplate": {"spec": {"template": {"spec": {}}}}}},
        registry.SECRET: {"stringData": {"a": "b"}},
        registry.NAMESPACE: {},
        registry.PERSISTENT_VOLUME: {"spec": {"hostPath": {"path": "/x"}}},
        registry.PERSISTENT_VOLUME_CLAIM: {"spec": {}},
        registry.STORAGE_CLASS: {},
        registry.NODE: {"status": {"capacity": {"cpu": "1"}}},
    }
    for rt, body in samples.items():
        obj = {"metadata": {"name": "x", "namespace": "default", "uid": "u"}, **body}
        strategy.prepare_for_create(rt, obj)
        again = copy.deepcopy(obj)
        strategy.prepare_for_update(rt, again, obj)
        assert again == obj, rt.kind


def test_causes_render_as_the_kubectl_sample():
    """The 422 body recorded from a real kubectl session (reference/kubectl-protocol.md)."""
    job = {
        "metadata": {"name": "bad", "namespace": "default", "uid": "u"},
        "spec": {"template": {"spec": {"restartPolicy": "Never"}}},
    }
    strategy.prepare_for_create(registry.JOB, job)
    error = Invalid("Job", "bad", strategy.validate_create(registry.JOB, job), "batch")
    assert error.message == (
        'Job.batch "bad" is invalid: spec.template.spec.containers: Required value'
    )
    assert error.details["causes"] == [
        {
            "reason": "FieldValueRequired",
            "message": "Required value",
            "field": "spec.template.spec.containers",
        }
    ]
