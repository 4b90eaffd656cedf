import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.responses import Response

from berth.platform.metrics.http import RequestMetrics, request_labels
from berth.platform.metrics.series import Metrics


@pytest.mark.parametrize(
    "method, path, query, labels",
    [
        ("GET", "/apis/batch/v1/namespaces/ns/jobs", "", ("list", "jobs")),
        ("GET", "/apis/batch/v1/namespaces/ns/jobs", "watch=true", ("watch", "jobs")),
        ("GET", "/api/v1/pods", "watch=1&resourceVersion=5", ("watch", "pods")),
        ("GET", "/apis/batch/v1/namespaces/ns/jobs/a-job-name", "", ("get", "jobs")),
        ("GET", "/api/v1/namespaces/ns/pods/p/log", "follow=true", ("get", "pods/log")),
        ("POST", "/apis/batch/v1/namespaces/ns/jobs", "", ("create", "jobs")),
        ("PUT", "/apis/batch/v1/namespaces/ns/jobs/j/status", "", ("update", "jobs/status")),
        ("PATCH", "/api/v1/nodes/n1", "", ("patch", "nodes")),
        ("DELETE", "/apis/batch/v1/namespaces/ns/jobs/j", "", ("delete", "jobs")),
        ("DELETE", "/apis/batch/v1/namespaces/ns/jobs", "", ("deletecollection", "jobs")),
        ("GET", "/api/v1", "", ("get", "")),
        ("GET", "/healthz", "", ("get", "")),
        ("GET", "/api/v1/namespaces/ns/whatever-someone-typed", "", ("get", "")),
    ],
)
def test_request_labels_never_carry_names(method, path, query, labels):
    assert request_labels(method, path, query) == labels


def test_middleware_counts_times_and_gauges_watches():
    metrics = Metrics()
    app = FastAPI()
    seen = {}

    @app.get("/api/v1/pods")
    async def pods(watch: str = "") -> Response:
        seen["open"] = metrics.registry.get_sample_value(
            "berth_api_watch_connections", {"resource": "pods"}
        )
        return Response("[]", status_code=200)

    app.add_middleware(RequestMetrics, metrics=metrics)
    client = TestClient(app)
    client.get("/api/v1/pods")
    client.get("/api/v1/pods?watch=true")
    client.get("/api/v1/namespaces/x/pods/missing")
    get = metrics.registry.get_sample_value
    assert get("berth_api_requests_total", {"verb": "list", "resource": "pods", "code": "200"}) == 1
    assert (
        get("berth_api_requests_total", {"verb": "watch", "resource": "pods", "code": "200"}) == 1
    )
    assert get("berth_api_requests_total", {"verb": "get", "resource": "pods", "code": "404"}) == 1
    assert (
        get("berth_api_request_duration_seconds_count", {"verb": "list", "resource": "pods"}) == 1
    )
    assert (
        get("berth_api_request_duration_seconds_count", {"verb": "watch", "resource": "pods"})
        is None
    )
    assert seen["open"] == 1
    assert get("berth_api_watch_connections", {"resource": "pods"}) == 0
