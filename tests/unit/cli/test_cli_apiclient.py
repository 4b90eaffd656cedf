"""The CLI's HTTP client against a local HTTP server: headers, refusals as Status, streams."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

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


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    content: bytes

    @property
    def params(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.query).items()}


Answer = tuple[int, bytes]


def answer(status: int, doc=None, content: bytes = b"") -> Answer:
    return status, (json.dumps(doc).encode() if doc is not None else content)


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[Seen], Answer]], tuple[ApiClient, list[Seen]]]]:
    """Start a local server answering with ``handler``; yield (client, requests seen)."""
    servers: list[ThreadingHTTPServer] = []

    def start(handler: Callable[[Seen], Answer]) -> tuple[ApiClient, list[Seen]]:
        seen: list[Seen] = []

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                url = urlsplit(self.path)
                request = Seen(
                    self.command,
                    url.path,
                    url.query,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                seen.append(request)
                status, body = handler(request)
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PATCH = do_DELETE = _any

            def log_message(self, *args) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return ApiClient(f"http://127.0.0.1:{server.server_port}/"), seen

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_table_requests_ask_for_a_table_and_drop_empty_params(serve):
    client, seen = serve(lambda r: answer(200, {"kind": "Table"}))
    assert client.get_table(
        "/apis/batch/v1/namespaces/d/jobs", {"labelSelector": None, "limit": ""}
    ) == {"kind": "Table"}
    assert seen[0].path == "/apis/batch/v1/namespaces/d/jobs"
    assert seen[0].headers["accept"] == TABLE_ACCEPT
    assert seen[0].query == ""
    assert seen[0].headers["user-agent"] == "berth-cli"


def test_a_server_under_a_path_prefix_gets_paths_under_it(serve):
    client, seen = serve(lambda r: answer(200, {"kind": "Status"}))
    prefixed = ApiClient(client.server + "/berth/")
    prefixed.get_json("/version", {"watch": True, "pretty": False})
    assert seen[0].path == "/berth/version"
    assert seen[0].params == {"watch": "true", "pretty": "false"}


def test_a_refusal_carries_the_servers_status(serve):
    client, _ = serve(lambda r: answer(404, NOT_FOUND))
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
def test_a_refusal_without_a_status_body_gets_one(serve, body, message):
    client, _ = serve(lambda r: answer(502, content=body))
    with pytest.raises(ApiError) as caught:
        client.get_json("/api/v1/pods")
    assert caught.value.code == 502
    assert caught.value.status["message"] == message


def test_writes_send_json_with_the_right_media_types(serve):
    client, seen = serve(lambda r: answer(200, {}))
    client.create("/api/v1/namespaces/d/configmaps", {"kind": "ConfigMap"})
    client.merge_patch("/api/v1/namespaces/d/configmaps/c", {"data": None})
    client.delete("/api/v1/namespaces/d/configmaps/c", "Foreground")
    create, patch, delete = seen
    assert (create.method, create.headers["content-type"]) == ("POST", "application/json")
    assert create.params["fieldManager"] == "berth-cli"
    assert json.loads(create.content) == {"kind": "ConfigMap"}
    assert (patch.method, patch.headers["content-type"]) == ("PATCH", MERGE_PATCH)
    assert json.loads(patch.content) == {"data": None}
    assert delete.method == "DELETE"
    assert json.loads(delete.content)["propagationPolicy"] == "Foreground"


def test_watch_yields_one_event_per_line(serve):
    lines = b'{"type":"ADDED","object":{"a":1}}\n\n{"type":"DELETED","object":{"a":2}}\n'
    client, seen = serve(lambda r: answer(200, content=lines))
    events = list(client.watch("/api/v1/pods", {"resourceVersion": "5"}))
    assert [e["type"] for e in events] == ["ADDED", "DELETED"]
    assert seen[0].params["watch"] == "true"
    assert seen[0].params["resourceVersion"] == "5"


def test_stream_lines_of_a_log_and_its_refusal(serve):
    client, seen = serve(lambda r: answer(200, content=b"one\r\ntwo\nthree"))
    assert list(client.stream_lines("/api/v1/namespaces/d/pods/p/log", {"follow": "true"})) == [
        "one",
        "two",
        "three",
    ]
    assert seen[0].headers["accept"] == "text/plain"
    refusing, _ = serve(
        lambda r: answer(400, {"kind": "Status", "code": 400, "message": "waiting to start"})
    )
    with pytest.raises(ApiError, match="waiting to start"):
        list(refusing.stream_lines("/api/v1/namespaces/d/pods/p/log"))


def test_a_chunked_stream_arrives_line_by_line():
    """A followed log or watch comes in chunks as it happens: each line is yielded when it
    arrives, before the server ends the answer."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    second_line = threading.Event()

    def serve_one() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            conn.sendall(b"4\r\none\n\r\n")
            second_line.wait(10)
            conn.sendall(b"4\r\ntwo\n\r\n0\r\n\r\n")

    threading.Thread(target=serve_one, daemon=True).start()
    lines = ApiClient(f"http://127.0.0.1:{port}").stream_lines("/log")
    assert next(lines) == "one"
    second_line.set()
    assert list(lines) == ["two"]
    listener.close()


def test_an_unreachable_server_is_a_connection_problem():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nothing listens there
    client = ApiClient(f"http://127.0.0.1:{port}")
    with pytest.raises(ConnectionProblem, match=f"http://127.0.0.1:{port} was refused"):
        client.get_json("/version")
    with pytest.raises(ConnectionProblem):
        list(client.watch("/api/v1/pods"))


def test_a_server_that_is_not_an_http_address_is_a_connection_problem():
    with pytest.raises(ConnectionProblem, match="not an http:// or https:// address"):
        ApiClient("berth:8080")
