"""Paths to resources, like kube-apiserver's RequestInfoFactory."""

from __future__ import annotations

import pytest

from berth.platform.api.decoding import prune
from berth.platform.api.requestinfo import parse
from berth.platform.errors import NotFound
from berth.platform.resources import registry


@pytest.mark.parametrize(
    "path,rt,ns,name,sub",
    [
        ("/api/v1", None, None, None, None),
        ("/apis/batch/v1", None, None, None, None),
        ("/api/v1/pods", registry.POD, None, None, None),
        ("/api/v1/namespaces", registry.NAMESPACE, None, None, None),
        ("/api/v1/namespaces/team", registry.NAMESPACE, None, "team", None),
        ("/api/v1/namespaces/team/status", registry.NAMESPACE, None, "team", "status"),
        ("/api/v1/namespaces/team/finalize", registry.NAMESPACE, None, "team", "finalize"),
        ("/api/v1/namespaces/team/pods", registry.POD, "team", None, None),
        ("/api/v1/namespaces/team/pods/p1/log", registry.POD, "team", "p1", "log"),
        (
            "/apis/batch/v1/namespaces/default/jobs/pi/status",
            registry.JOB,
            "default",
            "pi",
            "status",
        ),
        ("/apis/batch/v1/jobs", registry.JOB, None, None, None),
        ("/api/v1/nodes/n1", registry.NODE, None, "n1", None),
        (
            "/apis/storage.k8s.io/v1/storageclasses/standard",
            registry.STORAGE_CLASS,
            None,
            "standard",
            None,
        ),
    ],
)
def test_parse(path, rt, ns, name, sub):
    info = parse(path)
    assert (info.resource, info.namespace, info.name, info.subresource) == (rt, ns, name, sub)


@pytest.mark.parametrize(
    "path",
    [
        "/api",
        "/apis/batch",
        "/api/v1/widgets",
        "/apis/batch/v1/namespaces/x/jobs/a/log",
        "/api/v1/namespaces/x/nodes",
        "/apis/batch/v2/jobs",
        "/api/v1/namespaces/x/pods/a/b/c",
    ],
)
def test_unknown_paths_are_not_found(path):
    with pytest.raises(NotFound):
        parse(path)


def test_prune_removes_nested_unknown_fields():
    doc = {"spec": {"foo": 1, "template": {"spec": {"containers": [{"name": "a", "bad": 2}]}}}}
    prune(doc, "spec.foo")
    prune(doc, "spec.template.spec.containers[0].bad")
    prune(doc, "spec.missing.deeper")
    assert doc == {"spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}}
