"""The cluster deployment's shape on one machine: two ``berth up --role api`` processes and
two ``berth up --role controller`` processes on one PostgreSQL and one Ray cluster.

kubectl is served interchangeably by either API process (a Job created through one is watched
to completion through the other, and its log read through it from the pod's node agent on
Ray); exactly one controller leads (``berth_controller_leader``),
and when it is killed the other takes over within 15 s and runs new Jobs.
"""

from __future__ import annotations

import signal
import time
import uuid

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.e2e.conftest import start_berth, stop_berth
from tests.e2e.jobs_support import wait_for
from tests.e2e.ray_cluster import FAST_HEALTH_CHECKS, RayCluster
from tests.support import make_pg_schema, pg_problem

pytestmark = pytest.mark.e2e

TAKEOVER_LIMIT_S = 15.0
JOB = """
apiVersion: batch/v1
kind: Job
metadata: {{name: {name}}}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{{name: main, image: busybox, command: ["sh", "-c", "sleep 1; echo done"],
                    resources: {{requests: {{cpu: 100m}}}}}}]
"""


def metric(url: str, name: str) -> float | None:
    """One unlabelled sample of a process's /metrics (None when absent)."""
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    problem = pg_problem()
    if problem:
        pytest.skip(problem)
    tmp = tmp_path_factory.mktemp("roles")
    url, drop = make_pg_schema()
    started = []
    try:
        with RayCluster(
            tmp / "ray",
            head={"num_cpus": 1},
            workers={"w": {"num_cpus": 2}},
            system_config=FAST_HEALTH_CHECKS,
        ) as cluster:
            shared = {
                "BERTH_ENCRYPTION_KEY": Fernet.generate_key().decode(),
                "BERTH_NODE_ROOT": str(tmp / "nodes"),
            }
            controllers = []
            for name in ("controller-a", "controller-b"):
                (tmp / name).mkdir()
                server = start_berth(
                    tmp / name,
                    url,
                    workers=True,
                    extra_env={**cluster.berth_env, **shared, "BERTH_ROLE": "controller"},
                )
                started.append(server)
                controllers.append(server)
            apis = []
            for name in ("api-1", "api-2"):
                (tmp / name).mkdir()
                server = start_berth(
                    tmp / name,
                    url,
                    workers=True,
                    extra_env={**cluster.berth_env, **shared, "BERTH_ROLE": "api"},
                )
                started.append(server)
                apis.append(server)
            yield controllers, apis
    finally:
        for server in started:
            stop_berth(server.process, signal.SIGINT)
        drop()


def leader(controllers) -> list[float | None]:
    return [
        metric(c.url, "berth_controller_leader") if c.process.poll() is None else None
        for c in controllers
    ]


def run_job(create_through, watch_through, ns: str, name: str) -> None:
    create_through.kubectl("-n", ns, "apply", "-f", "-", input=JOB.format(name=name))
    watch_through.kubectl(
        "-n", ns, "wait", "--for=condition=complete", f"job/{name}", "--timeout=120s", timeout=150
    )


def test_api_replicas_serve_kubectl_interchangeably_and_a_controller_takes_over(deployment):
    controllers, (api1, api2) = deployment
    for c in controllers:
        # the controller role serves no Kubernetes API, only health and metrics
        assert httpx.get(f"{c.url}/api/v1/namespaces", timeout=10).status_code == 404
    wait_for(
        lambda: sorted(leader(controllers)) == [0.0, 1.0],
        timeout=60,
        what="one leading controller and one waiting",
    )
    assert metric(api1.url, "berth_controller_leader") == 0.0
    assert "berth_jobs{" not in httpx.get(f"{api1.url}/metrics", timeout=10).text

    ns = f"roles-{uuid.uuid4().hex[:6]}"
    api1.kubectl("create", "namespace", ns)
    run_job(api1, api2, ns, "through-one")
    run_job(api2, api1, ns, "through-two")
    assert api2.kubectl("-n", ns, "logs", "job/through-one").stdout.strip() == "done"
    assert api1.kubectl("-n", ns, "logs", "job/through-two").stdout.strip() == "done"
    assert "berth_api_requests_total" in httpx.get(f"{api2.url}/metrics", timeout=10).text

    lead = controllers[leader(controllers).index(1.0)]
    standby = next(c for c in controllers if c is not lead)
    lead.process.send_signal(signal.SIGKILL)
    lead.process.wait(timeout=10)
    killed = time.monotonic()
    wait_for(
        lambda: metric(standby.url, "berth_controller_leader") == 1.0,
        timeout=TAKEOVER_LIMIT_S + 30,
        interval=0.2,
        what="the standby leading",
    )
    took = time.monotonic() - killed
    assert took <= TAKEOVER_LIMIT_S, f"the standby took over after {took:.1f} s"
    run_job(api1, api2, ns, "after-takeover")
