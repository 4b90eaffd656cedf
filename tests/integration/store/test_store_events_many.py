"""``EventRecorder.record_many``: the new Events of many objects created together (one
insert, consecutive resourceVersions), repeats counted on the Event they repeat (also a
repeat within the same call), and an Event refused alone dropped alone."""

from __future__ import annotations

from berth.platform.resources import registry
from berth.platform.store.client import Client
from berth.platform.store.events import EventRecorder


def a_pod(client: Client, name: str, namespace: str = "default") -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}"},
    }


def events(client: Client) -> list[dict]:
    return client.list(registry.EVENT, "default").items


def test_new_events_are_created_together_in_order(client):
    recorder = EventRecorder(client, "test")
    a, b = a_pod(client, "a"), a_pod(client, "b")
    before = client.db.current_rv()
    recorder.record_many(
        [
            (a, "Normal", "Created", "made a"),
            (b, "Normal", "Created", "made b"),
            (a, "Warning", "Failed", "a failed"),
        ]
    )
    stored = sorted(events(client), key=lambda e: int(e["metadata"]["resourceVersion"]))
    assert [(e["involvedObject"]["name"], e["reason"]) for e in stored] == [
        ("a", "Created"),
        ("b", "Created"),
        ("a", "Failed"),
    ]
    assert [int(e["metadata"]["resourceVersion"]) for e in stored] == [
        before + 1,
        before + 2,
        before + 3,
    ]
    assert all(e["count"] == 1 and e["source"]["component"] == "test" for e in stored)


def test_a_repeat_is_counted_on_the_event_it_repeats(client):
    recorder = EventRecorder(client, "test")
    a, b = a_pod(client, "a"), a_pod(client, "b")
    recorder.event(a, "Normal", "Created", "made a")
    recorder.record_many(
        [
            (a, "Normal", "Created", "made a"),
            (b, "Normal", "Created", "made b"),
            (b, "Normal", "Created", "made b"),
        ]
    )
    counts = {e["involvedObject"]["name"]: e["count"] for e in events(client)}
    assert counts == {"a": 2, "b": 2}
    assert len(events(client)) == 2


def test_an_event_refused_alone_is_dropped_alone(client):
    recorder = EventRecorder(client, "test")
    gone = a_pod(client, "x", namespace="missing")  # its namespace does not exist
    recorder.record_many(
        [(gone, "Normal", "Created", "made x"), (a_pod(client, "a"), "Normal", "Created", "a")]
    )
    assert [e["involvedObject"]["name"] for e in events(client)] == ["a"]
    assert client.list(registry.EVENT, "missing").items == []
