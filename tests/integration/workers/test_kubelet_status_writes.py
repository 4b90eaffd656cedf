"""The kubelet's status writes: a compare-and-set on the copy of the pod it holds (the
informer's, or its own later write), a read only when that copy was stale; SQLite and
PostgreSQL."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from berth.platform.resources import registry
from berth.platform.runtime import open_platform
from berth.settings import Settings
from berth.workers.control.reports import StatusReports

pytestmark = pytest.mark.integration


@pytest.fixture
def platform(database_url, tmp_path):
    opened = open_platform(Settings(data_dir=tmp_path, database_url=database_url))
    yield opened
    opened.close()


class FakeKubelet:
    """What ``StatusReports`` asks of the kubelet; ``cached`` plays the informer's copy."""

    def __init__(self):
        self.cached: dict | None = None
        self.recorder = None
        self.lookups = SimpleNamespace(pod=lambda ns, name, uid: self.cached)


@pytest.fixture
def reports(platform, monkeypatch):
    kubelet = FakeKubelet()
    made = StatusReports(platform.client, kubelet, 1.0)
    made.reads = []  # type: ignore[attr-defined]
    real = platform.client.guaranteed_update

    def counted(*args, **kwargs):
        made.reads.append(args[2])  # type: ignore[attr-defined]
        return real(*args, **kwargs)

    monkeypatch.setattr(platform.client, "guaranteed_update", counted)
    # The store reads of ``apply`` itself: a write made against no copy reads the pod first
    # (Client.update without current=); guaranteed_update reads it too.
    get, apply = platform.client.db.get, made.apply
    applying = []

    def counted_get(resource, namespace, name):
        if applying:
            made.reads.append(f"get {name}")  # type: ignore[attr-defined]
        return get(resource, namespace, name)

    def counted_apply(*args, **kwargs):
        applying.append(True)
        try:
            return apply(*args, **kwargs)
        finally:
            applying.clear()

    monkeypatch.setattr(platform.client.db, "get", counted_get)
    monkeypatch.setattr(made, "apply", counted_apply)
    return made


def a_pod(client, name="p") -> dict:
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


def stored(client, name="p") -> dict:
    return client.get(registry.POD, "default", name)


def test_a_fresh_copy_is_written_without_a_read(platform, reports):
    pod = a_pod(platform.client)
    reports.kubelet.cached = pod
    written = reports.apply(report(pod, "Running"), "node-1")
    assert written is not None and written["status"]["phase"] == "Running"
    assert stored(platform.client)["status"]["phase"] == "Running"
    assert reports.reads == []


def test_the_next_report_uses_our_own_write_while_the_informer_lags(platform, reports):
    pod = a_pod(platform.client)
    reports.kubelet.cached = pod  # the informer never sees the Running write
    running = reports.apply(report(pod, "Running"), "node-1")
    reports.written.remember([running])
    done = reports.apply(report(pod, "Succeeded"), "node-1")
    assert done is not None and done["status"]["phase"] == "Succeeded"
    assert stored(platform.client)["status"]["phase"] == "Succeeded"
    assert reports.reads == []
    reports.written.remember([done])
    assert len(reports.written) == 0  # a finished pod is not written again


def test_a_stale_copy_conflicts_then_reads_and_keeps_the_other_writers_change(platform, reports):
    pod = a_pod(platform.client)
    reports.kubelet.cached = pod
    labelled = {**pod, "metadata": {**pod["metadata"], "labels": {"x": "1"}}}
    platform.client.update(registry.POD, labelled)  # someone else writes meanwhile
    written = reports.apply(report(pod, "Running"), "node-1")
    assert written is not None
    now = stored(platform.client)
    assert now["status"]["phase"] == "Running"
    assert now["metadata"]["labels"] == {"x": "1"}
    # No read before the compare-and-set; its conflict costs the reads of guaranteed_update.
    assert reports.reads[0] == "p"


def test_a_pod_replaced_under_the_same_name_is_not_written(platform, reports):
    old = a_pod(platform.client)
    reports.kubelet.cached = old
    platform.client.delete(registry.POD, "default", "p", grace_period_seconds=0)
    a_pod(platform.client)
    assert reports.apply(report(old, "Running"), "node-1") is None
    assert (stored(platform.client).get("status") or {}).get("phase") != "Running"


def test_a_terminal_phase_never_changes(platform, reports):
    pod = a_pod(platform.client)
    reports.kubelet.cached = pod
    done = reports.apply(report(pod, "Succeeded"), "node-1")
    reports.kubelet.cached = done
    reports.apply(report(pod, "Failed"), "node-1")
    assert stored(platform.client)["status"]["phase"] == "Succeeded"


def test_our_copy_gives_way_once_the_informer_catches_up(platform, reports):
    pod = a_pod(platform.client)
    reports.kubelet.cached = pod
    running = reports.apply(report(pod, "Running"), "node-1")
    reports.written.remember([running])
    assert reports.written.newest(pod) is running
    reports.kubelet.cached = stored(platform.client)
    assert reports.written.newest(reports.kubelet.cached) is reports.kubelet.cached
    assert len(reports.written) == 0
