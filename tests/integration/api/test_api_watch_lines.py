"""Watch streams without selectors write each event from the change's stored JSON and leave the
change undecoded (the API process's feed buffer must not fill with decoded objects: the
garbage collector's full collections walked them all, and the GETs waited). The lines are the
bytes the decoded path writes, whatever order the stored object's keys are in; Secrets,
sealed at rest, still come out in clear; watches with selectors and Table watches decode."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from berth.platform.api.app import create_app
from berth.platform.resources import registry
from berth.platform.store.checks import with_type
from berth.platform.store.watch import ChangeEvent, watch_batches
from tests.integration.api.api_fuzz_support import NAMESPACE


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request) -> str:
    return request.param


def _ensure_namespace(platform) -> None:
    if platform.client.try_get(registry.NAMESPACE, "", NAMESPACE) is None:
        platform.client.create(registry.NAMESPACE, {"metadata": {"name": NAMESPACE}})


def _write_some(platform, prefix: str) -> None:
    """Objects whose stored JSON begins with their type, lacks it, or has it last; a Secret;
    an update and a delete."""
    cm, secret = registry.CONFIG_MAP, registry.SECRET
    client = platform.client
    typed = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"{prefix}-typed"}}
    client.create(cm, {**typed, "data": {"k": "1"}}, NAMESPACE)
    client.create(cm, {"metadata": {"name": f"{prefix}-bare"}, "data": {"k": "é\n"}}, NAMESPACE)
    late = {"metadata": {"name": f"{prefix}-late"}, "kind": "ConfigMap", "apiVersion": "v1"}
    client.create(cm, late, NAMESPACE)
    client.create(secret, {"metadata": {"name": f"{prefix}-s"}, "data": {"p": "cw=="}}, NAMESPACE)
    current = client.get(cm, NAMESPACE, f"{prefix}-bare")
    client.update(cm, {**current, "data": {"k": "2"}}, NAMESPACE, f"{prefix}-bare")
    client.delete(cm, NAMESPACE, f"{prefix}-typed")


def _collect(platform, rt, rv: int, count: int, **selectors) -> list:
    async def run() -> list:
        got: list = []
        batches = watch_batches(
            platform.client, platform.feed, rt, NAMESPACE, resource_version=str(rv), **selectors
        )
        async for events in batches:
            got.extend(events)
            if len(got) >= count:
                break
        return got

    return asyncio.run(run())


def _decoded_line(rt, event_type: str, stored: dict) -> bytes:
    """What the stream wrote for a decoded event before (``orjson.dumps`` of the dict)."""
    return orjson.dumps({"type": event_type, "object": with_type(rt, stored)}) + b"\n"


def test_lines_are_the_decoded_events_bytes_and_changes_stay_undecoded(platform):
    _ensure_namespace(platform)
    rv = int(platform.db.current_rv())
    _write_some(platform, "lines")
    events = _collect(platform, registry.CONFIG_MAP, rv, 5)
    assert [type(e) for e in events] == [ChangeEvent] * 5
    assert [e.type for e in events] == ["ADDED", "ADDED", "ADDED", "MODIFIED", "DELETED"]
    for event in events:
        stored = platform.db.codec.decode("configmaps", event.change.data)
        assert event.line() == _decoded_line(registry.CONFIG_MAP, event.type, stored)
        assert event.change._object is None  # nothing decoded stays on the buffered change
        obj = orjson.loads(event.line())["object"]
        assert (obj["apiVersion"], obj["kind"]) == ("v1", "ConfigMap")
    names = [orjson.loads(e.line())["object"]["metadata"]["name"] for e in events]
    assert names == ["lines-typed", "lines-bare", "lines-late", "lines-bare", "lines-typed"]
    assert orjson.loads(events[3].line())["object"]["data"] == {"k": "2"}


def test_a_sealed_secret_comes_out_in_clear(platform):
    _ensure_namespace(platform)
    rv = int(platform.db.current_rv())
    _write_some(platform, "sealed")
    (event,) = _collect(platform, registry.SECRET, rv, 1)
    assert isinstance(event, ChangeEvent)
    assert not event.change.data.startswith("{")  # sealed at rest
    obj = orjson.loads(event.line())["object"]
    assert (obj["kind"], obj["data"]) == ("Secret", {"p": "cw=="})


def test_a_watch_with_selectors_decodes_and_matches_as_before(platform):
    _ensure_namespace(platform)
    rv = int(platform.db.current_rv())
    _write_some(platform, "picked")
    events = _collect(
        platform, registry.CONFIG_MAP, rv, 2, field_selector="metadata.name=picked-bare"
    )
    assert all(isinstance(e, dict) for e in events)
    assert [(e["type"], e["object"]["data"]) for e in events] == [
        ("ADDED", {"k": "é\n"}),
        ("MODIFIED", {"k": "2"}),
    ]


def test_watch_streams_over_http_as_json_and_as_tables(platform):
    from starlette.testclient import TestClient

    _ensure_namespace(platform)
    rv = platform.db.current_rv()
    _write_some(platform, "http")
    path = f"/api/v1/namespaces/{NAMESPACE}/configmaps"
    query = {"watch": "true", "resourceVersion": str(rv), "timeoutSeconds": "1"}
    with TestClient(create_app(platform)) as api:
        plain = api.get(path, params=query)
        table = api.get(
            path, params=query, headers={"Accept": "application/json;as=Table;g=meta.k8s.io;v=v1"}
        )
    lines = [orjson.loads(line) for line in plain.content.splitlines()]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in lines] == [
        ("ADDED", "http-typed"),
        ("ADDED", "http-bare"),
        ("ADDED", "http-late"),
        ("MODIFIED", "http-bare"),
        ("DELETED", "http-typed"),
    ]
    rows = [orjson.loads(line) for line in table.content.splitlines()]
    assert [e["object"]["kind"] for e in rows] == ["Table"] * 5
    assert rows[1]["object"]["rows"][0]["cells"][0] == "http-bare"
