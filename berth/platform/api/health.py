"""``/healthz``, ``/livez``, ``/readyz`` in Kubernetes' shape: ``ok``, or with ``?verbose``
one ``[+]name ok`` / ``[-]name failed: why`` line per check; ``/readyz/<check>`` asks one;
``?exclude=name`` leaves checks out. A failed check answers 500, as kube-apiserver does.
``/readyz`` adds ``informer-sync``: the caches of a leading process are filled."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from berth.platform.runtime import Platform


def health_response(platform: Platform, request: Request, check: str | None) -> Response:
    endpoint = request.url.path.strip("/").split("/")[0]
    exclude = tuple(request.query_params.getlist("exclude"))
    results = platform.health.run(only=check, exclude=exclude)
    if endpoint == "readyz" and "informer-sync" not in exclude and check in (None, "informer-sync"):
        ready = platform.ready.is_set()
        results.append(("informer-sync", ready, "synced" if ready else "caches not synced"))
    if check is not None and not results:
        return Response(
            f"404 page not found: no check {check!r}\n", status_code=404, media_type="text/plain"
        )
    passed = all(ok for _, ok, _ in results)
    verbose = "verbose" in request.query_params or not passed
    if not verbose:
        return Response("ok", media_type="text/plain")
    lines = [
        f"[+]{name} ok" + (f": {message}" if message and message != "ok" else "")
        if ok
        else f"[-]{name} failed: {message}"
        for name, ok, message in results
    ]
    lines.append(f"{endpoint} check {'passed' if passed else 'failed'}")
    return Response(
        "\n".join(lines) + "\n", status_code=200 if passed else 500, media_type="text/plain"
    )
