"""The CLI's HTTP client over a mock transport: headers, refusals as Status, streams."""

from __future__ import annotations

import json

import httpx
import pytest

from berth.cli.apiclient import MERGE_PATCH, TABLE_ACCEPT, ApiClient, ApiError, ConnectionProblem

NOT_FOUND = {
    "kind": "Status",
    "apiVersion": "v1",
    "status": "Failure",
    "code": 404,
    "reason": "NotFound",
    "message": 'jobs.batch "x" not found',
}


def client_for(handler) -> tuple[ApiClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return ApiClient("http://berth:8080/", transport=httpx.MockTransport(record)), seen


def test_table_requests_ask_for_a_table_and_drop_empty_params():
    client, seen = client_for(lambda r: httpx.Response(200, json={"kind": "Table"}))
    assert client.get_table(
        "/apis/batch/v1/namespaces/d/jobs", {"labelSelector": None, "limit": ""}
    ) == {"kind": "Table"}
    assert seen[0].headers["accept"] == TABLE_ACCEPT
    assert seen[0].url.query == b""
    assert seen[0].headers["user-agent"] == "berth-cli"


def test_a_refusal_carries_the_servers_status():
    client, _ = client_for(lambda r: httpx.Response(404, json=NOT_FOUND))
    with pytest.raises(ApiError) as caught:
        client.get_json("/apis/batch/v1/namespaces/d/jobs/x")
    assert caught.value.status == NOT_FOUND and caught.value.code == 404


@pytest.mark.parametrize(
    "body, message",
    [
        (b"upstream timed out", "upstream timed out"),
        (b"", "the server responded with HTTP 502"),
        (b'{"detail": "x"}', '{"detail": "x"}'),
    ],
)
def test_a_refusal_without_a_status_body_gets_one(body, message):
    client, _ = client_for(lambda r: httpx.Response(502, content=body))
    with pytest.raises(ApiError) as caught:
        client.get_json("/api/v1/pods")
    assert caught.value.code == 502
    assert caught.value.status["message"] == message


def test_writes_send_json_with_the_right_media_types():
    client, seen = client_for(lambda r: httpx.Response(200, json={}))
    client.create("/api/v1/namespaces/d/configmaps", {"kind": "ConfigMap"})
    client.merge_patch("/api/v1/namespaces/d/configmaps/c", {"data": None})
    client.delete("/api/v1/namespaces/d/configmaps/c", "Foreground")
    create, patch, delete = seen
    assert (create.method, create.headers["content-type"]) == ("POST", "application/json")
    assert create.url.params["fieldManager"] == "berth-cli"
    assert (patch.method, patch.headers["content-type"]) == ("PATCH", MERGE_PATCH)
    assert json.loads(patch.content) == {"data": None}
    assert delete.method == "DELETE"
    assert json.loads(delete.content)["propagationPolicy"] == "Foreground"


def test_watch_yields_one_event_per_line():
    lines = b'{"type":"ADDED","object":{"a":1}}\n\n{"type":"DELETED","object":{"a":2}}\n'
    client, seen = client_for(lambda r: httpx.Response(200, content=lines))
    events = list(client.watch("/api/v1/pods", {"resourceVersion": "5"}))
    assert [e["type"] for e in events] == ["ADDED", "DELETED"]
    assert seen[0].url.params["watch"] == "true"
    assert seen[0].url.params["resourceVersion"] == "5"


def test_stream_lines_of_a_log_and_its_refusal():
    client, seen = client_for(lambda r: httpx.Response(200, content=b"one\ntwo\nthree"))
    assert list(client.stream_lines("/api/v1/namespaces/d/pods/p/log", {"follow": "true"})) == [
        "one",
        "two",
        "three",
    ]
    assert seen[0].headers["accept"] == "text/plain"
    refusing, _ = client_for(
        lambda r: httpx.Response(
            400, json={"kind": "Status", "code": 400, "message": "waiting to start"}
        )
    )
    with pytest.raises(ApiError, match="waiting to start"):
        list(refusing.stream_lines("/api/v1/namespaces/d/pods/p/log"))


def test_an_unreachable_server_is_a_connection_problem():
    def refuse(request):
        raise httpx.ConnectError("refused", request=request)

    client, _ = client_for(refuse)
    with pytest.raises(ConnectionProblem, match="http://berth:8080 was refused"):
        client.get_json("/version")
    with pytest.raises(ConnectionProblem):
        list(client.watch("/api/v1/pods"))
