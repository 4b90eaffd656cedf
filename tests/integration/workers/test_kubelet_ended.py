"""The kubelet tells the scheduler a pod ended before the store shows it, and the store still
catches up when the first write fails; SQLite and PostgreSQL."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from berth.platform.errors import ServiceUnavailable
from berth.platform.resources import registry
from berth.platform.runtime import open_platform
from berth.settings import Settings
from berth.workers.control.reports import StatusReports

pytestmark = pytest.mark.integration

AGENT = SimpleNamespace(node_id="node-1", node_name="n1")


@pytest.fixture
def platform(database_url, tmp_path):
    opened = open_platform(Settings(data_dir=tmp_path, database_url=database_url))
    yield opened
    opened.close()


class FakeKubelet:
    """What ``StatusReports`` asks of the kubelet; the informer's copy is the stored pod."""

    def __init__(self, client):
        self.recorder = None
        self.lookups = SimpleNamespace(pod=lambda ns, name, uid: client.get(registry.POD, ns, name))

    def agent_for(self, node_name):
        return AGENT


def a_pod(client, name: str) -> dict:
    return client.create(
        registry.POD,
        {
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "busybox"}]},
        },
    )


def report(pod: dict, phase: str) -> dict:
    md = pod["metadata"]
    return {
        "uid": md["uid"],
        "namespace": md["namespace"],
        "name": md["name"],
        "status": {"phase": phase, "hostIP": "127.0.0.1"},
    }


def phase(client, name: str) -> str | None:
    return (client.get(registry.POD, "default", name).get("status") or {}).get("phase")


@pytest.fixture
def told(platform):
    """The reports, and what the listener was told with the phase the store showed then."""
    reports = StatusReports(platform.client, FakeKubelet(platform.client), 1.0)
    heard: list[tuple[str, str | None]] = []
    names = {}

    def listener(uids):
        heard.extend((names[u], phase(platform.client, names[u])) for u in uids)

    reports.on_ended.append(listener)
    return reports, heard, names


def test_the_end_is_told_before_the_write_and_only_once_the_store_shows_it(platform, told):
    reports, heard, names = told
    done, running = a_pod(platform.client, "done"), a_pod(platform.client, "running")
    names.update({p["metadata"]["uid"]: p["metadata"]["name"] for p in (done, running)})
    reports.take(AGENT, 0.0, 7, [report(done, "Succeeded"), report(running, "Running")])
    assert heard == [("done", "Pending")]  # told while the store still showed it unfinished
    assert phase(platform.client, "done") == "Succeeded"
    assert reports.cursors == {"node-1": 7}
    reports.take(AGENT, 0.0, 8, [report(done, "Succeeded")])  # an agent new to us repeats it
    assert heard == [("done", "Pending")]


def test_a_failed_write_is_asked_again_and_the_store_catches_up(platform, told, monkeypatch):
    reports, heard, names = told
    pod = a_pod(platform.client, "p")
    names[pod["metadata"]["uid"]] = "p"
    real = platform.client.update

    def down(*args, **kwargs):
        raise ServiceUnavailable("database is locked")

    monkeypatch.setattr(platform.client, "update", down)
    reports.take(AGENT, 0.0, 7, [report(pod, "Succeeded")])
    assert heard == [("p", "Pending")] and reports.cursors == {}
    monkeypatch.setattr(platform.client, "update", real)
    reports.take(AGENT, 0.0, 7, [report(pod, "Succeeded")])  # the same answer, asked again
    assert phase(platform.client, "p") == "Succeeded"
    assert reports.cursors == {"node-1": 7}
