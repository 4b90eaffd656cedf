"""A small HTTP client for Berth's Kubernetes-shaped API, as the ``berth`` commands need it.

Every non-2xx answer becomes ``ApiError`` carrying the server's ``Status`` body (or one built
from the HTTP status when the body is not a Status), so the commands print errors in one place
(``berth.cli.render.format_error``). An unreachable server becomes ``ConnectionProblem``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

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


def status_from_response(response: httpx.Response, body: bytes) -> dict:
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
        "code": response.status_code,
        "reason": "",
        "message": text or f"the server responded with HTTP {response.status_code}",
    }


class ApiClient:
    def __init__(
        self, server: str, *, timeout: float = 30.0, transport: httpx.BaseTransport | None = None
    ):
        self.server = server.rstrip("/")
        # No cap on connections: ``berth run`` holds one open per followed pod log.
        self._http = httpx.Client(
            base_url=self.server,
            timeout=timeout,
            transport=transport,
            # A plain-HTTP server is never spoken to over TLS (every request is a path under
            # it, and redirects are not followed), so build no TLS context for it: loading
            # the CA bundle took 45 ms of CPU of each command's start-up (0.8 ms without).
            verify=not self.server.startswith("http://"),
            headers={"User-Agent": USER_AGENT},
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=20),
        )

    def close(self) -> None:
        self._http.close()

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
    ) -> httpx.Response:
        headers = {"Accept": accept}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            response = self._http.request(
                method, path, params=_clean(params), content=body, headers=headers
            )
        except httpx.TransportError as exc:
            raise ConnectionProblem(self._unreachable(exc)) from exc
        if response.status_code >= 400:
            raise ApiError(status_from_response(response, response.content))
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
    def _stream(self, path: str, params: dict | None, accept: str) -> Iterator[httpx.Response]:
        try:
            with self._http.stream(
                "GET",
                path,
                params=_clean(params),
                headers={"Accept": accept},
                timeout=httpx.Timeout(30.0, read=None),
            ) as response:
                if response.status_code >= 400:
                    raise ApiError(status_from_response(response, response.read()))
                yield response
        except httpx.TransportError as exc:
            raise ConnectionProblem(self._unreachable(exc)) from exc

    def stream_lines(self, path: str, params: dict | None = None) -> Iterator[str]:
        """Lines of a ``text/plain`` stream (a followed log) until the server ends it."""
        with self._stream(path, params, "text/plain") as response:
            yield from response.iter_lines()

    def watch(self, path: str, params: dict | None = None) -> Iterator[dict]:
        """Watch events (``{"type", "object"}``), one per line, until the server ends the watch."""
        with self._stream(
            path, {**(params or {}), "watch": "true"}, "application/json"
        ) as response:
            for line in response.iter_lines():
                if line.strip():
                    yield json.loads(line)

    def _unreachable(self, exc: Exception) -> str:
        return (
            f"The connection to the server {self.server} was refused - is Berth running "
            f"(berth up) and is --server or BERTH_SERVER right? ({type(exc).__name__})"
        )


def _clean(params: dict | None) -> dict | None:
    if not params:
        return None
    return {k: v for k, v in params.items() if v not in (None, "")}
