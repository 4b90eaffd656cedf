"""ObjectMeta rules shared by every kind, and label selectors."""

import pytest

from berth.platform.resources import registry, strategy
from berth.platform.resources.validation import meta, names


def a_config_map(**md):
    base = {
        "name": "cm",
        "namespace": "default",
        "uid": "u",
        "creationTimestamp": "2026-01-01T00:00:00Z",
    }
    base.update(md)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": base, "data": {"k": "v"}}


def causes_of(obj, rt=registry.CONFIG_MAP):
    return [(c.field, c.reason) for c in strategy.validate_create(rt, obj)]


@pytest.mark.parametrize(
    "md,field,reason",
    [
        ({"name": ""}, "metadata.name", "FieldValueRequired"),
        ({"name": "Bad_Name"}, "metadata.name", "FieldValueInvalid"),
        ({"name": "ok", "generateName": "Bad_"}, "metadata.generateName", "FieldValueInvalid"),
        ({"namespace": ""}, "metadata.namespace", "FieldValueRequired"),
        ({"namespace": "Not.A.Label"}, "metadata.namespace", "FieldValueInvalid"),
        ({"labels": {"bad key": "v"}}, "metadata.labels", "FieldValueInvalid"),
        ({"labels": {"app": "bad value"}}, "metadata.labels", "FieldValueInvalid"),
        ({"labels": {"app": True}}, "metadata.labels", "FieldValueInvalid"),
        ({"annotations": {"bad key": "v"}}, "metadata.annotations", "FieldValueInvalid"),
        ({"annotations": {"big": "x" * (256 * 1024)}}, "metadata.annotations", "FieldValueTooLong"),
        (
            {"ownerReferences": [{"kind": "Job", "name": "j", "uid": "1"}]},
            "metadata.ownerReferences.apiVersion",
            "FieldValueInvalid",
        ),
        (
            {"ownerReferences": [{"apiVersion": "batch/v1", "name": "j", "uid": "1"}]},
            "metadata.ownerReferences.kind",
            "FieldValueInvalid",
        ),
        (
            {"ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "uid": "1"}]},
            "metadata.ownerReferences.name",
            "FieldValueInvalid",
        ),
        (
            {"ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "j"}]},
            "metadata.ownerReferences.uid",
            "FieldValueInvalid",
        ),
        (
            {
                "ownerReferences": [
                    {
                        "apiVersion": "batch/v1",
                        "kind": "Job",
                        "name": "a",
                        "uid": "1",
                        "controller": True,
                    },
                    {
                        "apiVersion": "batch/v1",
                        "kind": "Job",
                        "name": "b",
                        "uid": "2",
                        "controller": True,
                    },
                ]
            },
            "metadata.ownerReferences",
            "FieldValueInvalid",
        ),
        ({"finalizers": ["bad finalizer"]}, "metadata.finalizers", "FieldValueInvalid"),
        ({"finalizers": ["mine"]}, "metadata.finalizers[0]", "FieldValueInvalid"),
        (
            {"finalizers": ["orphan", "foregroundDeletion"]},
            "metadata.finalizers",
            "FieldValueInvalid",
        ),
    ],
)
def test_object_meta_rules(md, field, reason):
    assert (field, reason) in causes_of(a_config_map(**md))


@pytest.mark.parametrize(
    "md",
    [
        {"labels": {"app": "MyBigWebApp", "example.com/tier": ""}},
        {
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": "{}",
                "Example.com/Mixed": "ok",
            }
        },
        {"finalizers": ["kubernetes", "example.com/cleanup", "foregroundDeletion"]},
        {
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "name": "a",
                    "uid": "1",
                    "controller": True,
                }
            ]
        },
    ],
)
def test_valid_metadata_passes(md):
    assert causes_of(a_config_map(**md)) == []


def test_exact_name_message():
    cause = strategy.validate_create(registry.CONFIG_MAP, a_config_map(name="Bad_Name"))[0]
    assert cause.message == 'Invalid value: "Bad_Name": ' + names.dns1123_subdomain("x_")[0]
    assert cause.message.startswith('Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain')


def test_cluster_scoped_kind_forbids_a_namespace():
    sc = {
        "metadata": {"name": "fast", "namespace": "default"},
        "provisioner": "x.io/p",
        "volumeBindingMode": "Immediate",
    }
    assert ("metadata.namespace", "FieldValueForbidden") in causes_of(sc, registry.STORAGE_CLASS)


def test_update_may_not_rename():
    old, new = a_config_map(), a_config_map(name="other")
    causes = strategy.validate_update(registry.CONFIG_MAP, new, old)
    assert [(c.field, c.message) for c in causes] == [
        ("metadata.name", 'Invalid value: "other": field is immutable')
    ]


@pytest.mark.parametrize(
    "selector,field,reason",
    [
        (
            {"matchExpressions": [{"key": "a", "operator": "in", "values": ["x"]}]},
            "s.matchExpressions[0].operator",
            "FieldValueInvalid",
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "In"}]},
            "s.matchExpressions[0].values",
            "FieldValueRequired",
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
            "s.matchExpressions[0].values",
            "FieldValueForbidden",
        ),
        (
            {"matchExpressions": [{"key": "bad key", "operator": "Exists"}]},
            "s.matchExpressions[0].key",
            "FieldValueInvalid",
        ),
        ({"matchLabels": {"a": "bad value"}}, "s.matchLabels", "FieldValueInvalid"),
    ],
)
def test_label_selector_rules(selector, field, reason):
    assert (field, reason) in [
        (c.field, c.reason) for c in meta.validate_label_selector(selector, "s")
    ]


@pytest.mark.parametrize(
    "selector,labels,matches",
    [
        ({}, {"a": "1"}, True),
        (None, {"a": "1"}, False),
        ({"matchLabels": {"a": "1"}}, {"a": "1", "b": "2"}, True),
        ({"matchLabels": {"a": "1"}}, {"a": "2"}, False),
        (
            {"matchExpressions": [{"key": "gpu", "operator": "In", "values": ["nvidia"]}]},
            {"gpu": "nvidia"},
            True,
        ),
        (
            {"matchExpressions": [{"key": "gpu", "operator": "NotIn", "values": ["nvidia"]}]},
            {"gpu": "nvidia"},
            False,
        ),
        (
            {"matchExpressions": [{"key": "gpu", "operator": "NotIn", "values": ["nvidia"]}]},
            {},
            True,
        ),
        ({"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}, {}, False),
        ({"matchExpressions": [{"key": "gpu", "operator": "DoesNotExist"}]}, {}, True),
    ],
)
def test_selector_matches(selector, labels, matches):
    assert meta.selector_matches(selector, labels) is matches
