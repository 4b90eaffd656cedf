"""What the API process of ``berth up`` asks the controller process beside it.

Embedded ``berth up`` serves the Kubernetes API from a process of its own, so that reads are
not queued behind the controllers, the scheduler and the kubelet for one interpreter lock (see
``berth.server``). What only the controller process knows is passed through to it on loopback:
``/healthz``, ``/livez``, ``/readyz`` (its controllers, informers, scheduler and leader
election), pod logs (it drives the node agents) and its ``/metrics``, which the API process
serves merged with its own request series, so one scrape of the API port still sees all of
``berth up`` as before.
"""

from __future__ import annotations

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from berth.platform.api.status import status_response

# The series the API process records itself (its request middleware); every other family of
# the merged /metrics comes from the controller process.
API_FAMILY_PREFIX = "berth_api_"
_CONNECT_S = 5.0
_ANSWER_S = 10.0  # health and metrics; a followed log stays open as long as it runs


def merge_exposition(control: str, own: str, own_prefix: str = API_FAMILY_PREFIX) -> str:
    """Prometheus text: the families of ``control`` not named ``own_prefix*``, then those of
    ``own`` that are. Each family appears once (a second ``# HELP`` line for a name is an
    error to Prometheus)."""
    kept = [f for f in _families(control) if not f[0].startswith(own_prefix)]
    kept += [f for f in _families(own) if f[0].startswith(own_prefix)]
    return "".join(text for _, text in kept)


def _families(text: str) -> list[tuple[str, str]]:
    """``(name, lines)`` per family, in order; a family starts at its ``# HELP`` line."""
    out: list[tuple[str, list[str]]] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("# HELP ") or not out:
            parts = line.split()
            name = parts[2] if line.startswith("# HELP ") and len(parts) > 2 else ""
            out.append((name, []))
        out[-1][1].append(line)
    return [(name, "".join(lines)) for name, lines in out]


class ControllerProcess:
    """The controller process at ``url`` (loopback), as the API process reaches it."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        # Made on first use, inside the server's event loop; a followed log may stay open.
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(_CONNECT_S, read=None), trust_env=False
            )
        return self._client

    async def forward(self, request: Request) -> Response:
        """The same GET, answered by the controller process (streamed: ``logs -f``)."""
        query = request.url.query
        url = self.url + request.url.path + (f"?{query}" if query else "")
        accept = request.headers.get("accept")
        follow = request.query_params.get("follow") in ("true", "1")
        timeout = httpx.Timeout(_CONNECT_S, read=None if follow else _ANSWER_S)
        try:
            answer = await self._http().send(
                self._http().build_request(
                    "GET", url, headers={"accept": accept or "*/*"}, timeout=timeout
                ),
                stream=True,
            )
        except httpx.HTTPError as err:
            return _unavailable(request, err)
        return StreamingResponse(
            answer.aiter_raw(),
            status_code=answer.status_code,
            media_type=answer.headers.get("content-type"),
            background=BackgroundTask(answer.aclose),
        )

    async def metrics_text(self) -> str:
        answer = await self._http().get(f"{self.url}/metrics", timeout=_ANSWER_S)
        answer.raise_for_status()
        return answer.text


def _unavailable(request: Request, err: Exception) -> Response:
    message = f"the controller process of berth up is not answering: {type(err).__name__}"
    if request.url.path.startswith(("/healthz", "/livez", "/readyz")):
        return Response(message + "\n", status_code=503, media_type="text/plain")
    return status_response(503, "ServiceUnavailable", message)
