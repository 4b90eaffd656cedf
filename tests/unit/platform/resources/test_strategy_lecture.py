"""The lecture's manifests load unchanged: defaulted and validated with no causes."""

import copy
from pathlib import Path

import pytest
import yaml

from berth.platform.resources import registry, strategy

FIXTURES = Path(__file__).resolve().parents[4] / "examples" / "lecture"


def documents():
    for path in sorted(FIXTURES.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                yield pytest.param(doc, id=f"{path.stem}:{doc['kind']}:{doc['metadata']['name']}")


def stored(doc: dict) -> tuple[registry.ResourceType, dict]:
    """What the store hands the strategy on create: identity assigned."""
    rt = registry.by_kind(doc["apiVersion"], doc["kind"])
    obj = copy.deepcopy(doc)
    md = obj["metadata"]
    if rt.namespaced:
        md.setdefault("namespace", "default")
    md["uid"] = "6b1f3a52-0000-4000-8000-000000000001"
    md["creationTimestamp"] = "2026-11-25T19:17:52Z"
    md["generation"] = 1
    return rt, obj


@pytest.mark.parametrize("doc", list(documents()))
def test_lecture_manifest_is_valid(doc):
    rt, obj = stored(doc)
    strategy.prepare_for_create(rt, obj)
    assert strategy.validate_create(rt, obj) == []


@pytest.mark.parametrize("doc", list(documents()))
def test_lecture_manifest_survives_an_unchanged_update(doc):
    """kubectl apply of the same manifest again: defaults are stable and nothing immutable
    moves."""
    rt, obj = stored(doc)
    strategy.prepare_for_create(rt, obj)
    new = copy.deepcopy(obj)
    strategy.prepare_for_update(rt, new, obj)
    assert new == obj
    assert strategy.validate_update(rt, new, obj) == []
    assert not strategy.spec_changed(rt, new, obj)


def test_every_lecture_kind_is_covered():
    kinds = {p.values[0]["kind"] for p in documents()}
    assert kinds == {
        "Namespace",
        "Pod",
        "CronJob",
        "StorageClass",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "ConfigMap",
        "Secret",
        "Job",
    }


def test_lecture_cron_job_gets_kubernetes_defaults():
    doc = next(p.values[0] for p in documents() if p.values[0]["kind"] == "CronJob")
    rt, obj = stored(doc)
    strategy.prepare_for_create(rt, obj)
    spec = obj["spec"]
    assert (spec["concurrencyPolicy"], spec["suspend"]) == ("Allow", False)
    pod_spec = spec["jobTemplate"]["spec"]["template"]["spec"]
    assert pod_spec["containers"][0]["imagePullPolicy"] == "Always"  # alpine:latest
    assert "backoffLimit" not in spec["jobTemplate"]["spec"]
