"""A small HTTP client for Berth's Kubernetes-shaped API, as the ``berth`` commands need it.

Every non-2xx answer becomes ``ApiError`` carrying the server's ``Status`` body (or one built
from the HTTP status when the body is not a Status), so the commands print errors in one place
(``berth.cli.render.format_error``). An unreachable server becomes ``ConnectionProblem``.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io, application/json"
MERGE_PATCH = "application/merge-patch+json"
USER_AGENT = "berth-cli"


class ApiError(Exception):
    """The server refused: ``status`` is its Kubernetes ``Status`` body."""

    def __init__(self, status: dict):
        super().__init__(status.get("message", ""))
        self.status = status

    @property
    def code(self) -> int:
        return int(self.status.get("code") or 0)


class ConnectionProblem(Exception):
    """The server could not be reached at all."""


@dataclass(frozen=True)
class Response:
    """A whole answer: its status code and body."""

    status_code: int
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


def status_from_response(status_code: int, body: bytes) -> dict:
    """The ``Status`` of a failed response; a made-up one when the body is something else."""
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and doc.get("kind") == "Status":
        return doc
    text = body.decode("utf-8", "replace").strip()
    return {
        "kind": "Status",
        "status": "Failure",
        "code": status_code,
        "reason": "",
        "message": text or f"the server responded with HTTP {status_code}",
    }


class ApiClient:
    """One connection per request (a local server answers a new one in well under a
    millisecond), so the threads of ``berth run`` that follow pod logs share nothing."""

    def __init__(self, server: str, *, timeout: float = 30.0):
        self.server = server.rstrip("/")
        parts = urlsplit(self.server)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConnectionProblem(
                f"The server {server!r} is not an http:// or https:// address "
                "(set --server or BERTH_SERVER)"
            )
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout

    def close(self) -> None:
        """Nothing stays open between requests."""

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- plain requests -------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        body: bytes | None = None,
        content_type: str | None = None,
        accept: str = "application/json",
    ) -> Response:
        headers = {"Accept": accept, "User-Agent": USER_AGENT}
        if content_type:
            headers["Content-Type"] = content_type
        connection = self._connect(self._timeout)
        try:
            connection.request(method, self._target(path, params), body=body, headers=headers)
            answer = connection.getresponse()
            response = Response(answer.status, answer.read())
        except (OSError, http.client.HTTPException) as exc:
            raise ConnectionProblem(self._unreachable(exc)) from exc
        finally:
            connection.close()
        if response.status_code >= 400:
            raise ApiError(status_from_response(response.status_code, response.content))
        return response

    def get_json(self, path: str, params: dict | None = None) -> Any:
        """The JSON body: an object of the kind ``path`` names (annotate it at the caller)."""
        return self.request("GET", path, params=params).json()

    def get_table(self, path: str, params: dict | None = None) -> dict:
        return self.request("GET", path, params=params, accept=TABLE_ACCEPT).json()

    def get_text(self, path: str, params: dict | None = None) -> str:
        return self.request("GET", path, params=params, accept="text/plain").text

    def create(self, path: str, obj: dict, field_manager: str = USER_AGENT) -> dict:
        return self.request(
            "POST",
            path,
            params={"fieldManager": field_manager},
            body=json.dumps(obj).encode(),
            content_type="application/json",
        ).json()

    def merge_patch(self, path: str, patch: dict, field_manager: str = USER_AGENT) -> dict:
        return self.request(
            "PATCH",
            path,
            params={"fieldManager": field_manager},
            body=json.dumps(patch).encode(),
            content_type=MERGE_PATCH,
        ).json()

    def delete(self, path: str, propagation_policy: str | None = None) -> dict:
        options = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if propagation_policy:
            options["propagationPolicy"] = propagation_policy
        return self.request(
            "DELETE", path, body=json.dumps(options).encode(), content_type="application/json"
        ).json()

    # -- streams ------------------------------------------------------------------------

    @contextmanager
    def _stream(self, path: str, params: dict | None, accept: str) -> Iterator[Iterator[str]]:
        """The lines of a streamed answer; the connection waits for them without a timeout
        once it is made (a followed log can be quiet for hours)."""
        connection = self._connect(self._timeout)
        try:
            try:
                connection.request(
                    "GET",
                    self._target(path, params),
                    headers={"Accept": accept, "User-Agent": USER_AGENT},
                )
                answer = connection.getresponse()
                if answer.status >= 400:
                    raise ApiError(status_from_response(answer.status, answer.read()))
                if connection.sock is not None:
                    connection.sock.settimeout(None)
            except (OSError, http.client.HTTPException) as exc:
                raise ConnectionProblem(self._unreachable(exc)) from exc
            yield self._lines(answer)
        finally:
            connection.close()

    def _lines(self, answer: http.client.HTTPResponse) -> Iterator[str]:
        while True:
            try:
                line = answer.readline()
            except (OSError, http.client.HTTPException) as exc:
                raise ConnectionProblem(self._unreachable(exc)) from exc
            if not line:
                return
            yield line.decode("utf-8", "replace").rstrip("\r\n")

    def stream_lines(self, path: str, params: dict | None = None) -> Iterator[str]:
        """Lines of a ``text/plain`` stream (a followed log) until the server ends it."""
        with self._stream(path, params, "text/plain") as lines:
            yield from lines

    def watch(self, path: str, params: dict | None = None) -> Iterator[dict]:
        """Watch events (``{"type", "object"}``), one per line, until the server ends the watch."""
        with self._stream(path, {**(params or {}), "watch": "true"}, "application/json") as lines:
            for line in lines:
                if line.strip():
                    yield json.loads(line)

    # -- plumbing -----------------------------------------------------------------------

    def _connect(self, timeout: float) -> http.client.HTTPConnection:
        if self._https:
            # TLS only for an https:// server: building its context loads the CA bundle
            # (about 45 ms of CPU), which a plain-HTTP command never pays.
            connection = http.client.HTTPSConnection(self._host, self._port, timeout=timeout)
        else:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        return connection

    def _target(self, path: str, params: dict | None) -> str:
        query = _query(params)
        return f"{self._prefix}{path}" + (f"?{query}" if query else "")

    def _unreachable(self, exc: Exception) -> str:
        return (
            f"The connection to the server {self.server} was refused - is Berth running "
            f"(berth up) and is --server or BERTH_SERVER right? ({type(exc).__name__})"
        )


def _query(params: dict | None) -> str:
    """The query string: empty and None values left out, booleans as ``true``/``false``."""
    if not params:
        return ""
    pairs = [
        (k, ("true" if v else "false") if isinstance(v, bool) else str(v))
        for k, v in params.items()
        if v not in (None, "")
    ]
    return urlencode(pairs)
