"""The lecture's manifests (examples/lecture, slide text turned back into YAML) are accepted
as written by kubectl against berth up, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml

LECTURE = Path(__file__).resolve().parents[2] / "examples" / "lecture"
CONTROL_PLANE_FILES = ["namespace.yaml", "config.yaml", "storage.yaml", "cronjob.yaml"]


def documents(name):
    return [d for d in yaml.safe_load_all((LECTURE / name).read_text()) if d]


@pytest.mark.parametrize("filename", CONTROL_PLANE_FILES)
def test_lecture_manifests_apply_unchanged(berth_server, namespace, filename):
    k = berth_server.kubectl
    out = k("-n", namespace, "apply", "-f", str(LECTURE / filename)).stdout
    for doc in documents(filename):
        kind = doc["kind"].lower()
        name = doc["metadata"]["name"]
        assert f"{name} created" in out or f"{name} unchanged" in out, out
        args = ["get", kind, name, "-o", "json"]
        if kind not in ("namespace", "persistentvolume", "storageclass"):
            args = ["-n", namespace, *args]
        got = yaml.safe_load(k(*args).stdout)
        assert got["metadata"]["name"] == name
        assert (got.get("metadata", {}).get("labels") or {}).items() >= (
            doc["metadata"].get("labels") or {}
        ).items()
    again = k("-n", namespace, "apply", "-f", str(LECTURE / filename)).stdout
    assert "created" not in again and "configured" not in again


def test_lecture_secret_and_configmap_content(berth_server, namespace):
    berth_server.kubectl("-n", namespace, "apply", "-f", str(LECTURE / "config.yaml"))
    for doc in documents("config.yaml"):
        got = berth_server.kubectl_json(
            "-n", namespace, "get", doc["kind"].lower(), doc["metadata"]["name"]
        )
        if doc["kind"] == "Secret":
            assert got["data"] == doc["data"]
            assert base64.b64decode(got["data"]["username"]) == b"example"
        else:
            assert got["data"] == doc["data"]


def test_lecture_storage_objects_show_in_tables(berth_server, namespace):
    k = berth_server.kubectl
    k("-n", namespace, "apply", "-f", str(LECTURE / "storage.yaml"))
    header = k("get", "storageclass").stdout.splitlines()[0].split()
    assert header[:3] == ["NAME", "PROVISIONER", "RECLAIMPOLICY"]
    header = k("get", "pv").stdout.splitlines()[0].split()
    assert header[:4] == ["NAME", "CAPACITY", "ACCESS", "MODES"]
    header = k("-n", namespace, "get", "pvc").stdout.splitlines()[0].split()
    assert header[:2] == ["NAME", "STATUS"]
