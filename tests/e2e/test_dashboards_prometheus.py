"""Every query of every dashboard panel, evaluated by a real Prometheus scraping a real
``berth up`` (with its embedded Ray) that ran Jobs that succeed, fail, wait in the queue and
cannot be scheduled. DCGM's series come from NVIDIA's exporter on GPU hosts only: those queries
are checked for syntax with ``promtool``.

A simulated GPU node (tainted so that only GPU pods go there) supplies Berth's GPU series: a
6-GPU pod runs on it, a 4-GPU pod cannot fit beside it, so 2 GPUs are fragmented.
"""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest

from dashboards.generate import OUT
from dashboards.panels import RATE, queries
from tests.e2e.conftest import start_berth, stop_berth_and_ray
from tests.e2e.prometheus_support import Prometheus, program, promtool_check

pytestmark = pytest.mark.e2e

GPU_NODE = """
apiVersion: v1
kind: Node
metadata:
  name: {name}
  labels: {{berth.dev/simulated: "true", gpu: nvidia}}
spec:
  taints: [{{key: dedicated, value: gpu, effect: NoSchedule}}]
status:
  capacity: {{cpu: "32", memory: 256Gi, nvidia.com/gpu: "8", pods: "110"}}
"""

JOB = """
apiVersion: batch/v1
kind: Job
metadata: {{name: {name}}}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      {placement}
      containers:
      - name: main
        image: busybox
        command: ["sh", "-c", "{script}"]
        resources:
          requests: {requests}
          limits: {limits}
"""

GPU_PLACEMENT = (
    "nodeSelector: {gpu: nvidia}\n      tolerations: [{key: dedicated, "
    "operator: Equal, value: gpu, effect: NoSchedule}]"
)

CRONJOB = """
apiVersion: batch/v1
kind: CronJob
metadata: {name: yearly}
spec:
  schedule: "0 0 1 1 *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: main, image: busybox, command: ["true"]}]
"""


def job(name: str, script: str = "true", cpu: str = "100m", gpus: int = 0) -> str:
    requests = {"cpu": cpu}
    limits = {}
    placement = ""
    if gpus:
        requests["nvidia.com/gpu"] = limits["nvidia.com/gpu"] = gpus
        placement = GPU_PLACEMENT
    return JOB.format(
        name=name,
        script=script,
        placement=placement,
        requests=json.dumps(requests),
        limits=json.dumps(limits),
    )


def dashboard_queries() -> list[tuple[str, str, str]]:
    out = []
    for path in sorted(OUT.glob("*.json")):
        for title, expr in queries(json.loads(path.read_text())):
            out.append((path.stem, title, expr.replace(RATE, "1m")))
    return out


def test_every_dashboard_query_parses_with_promtool(tmp_path):
    exprs = [expr for _, _, expr in dashboard_queries()]
    assert any("DCGM_FI_DEV_GPU_UTIL" in e for e in exprs)
    assert any("DCGM_FI_DEV_FB_USED" in e for e in exprs)
    result = promtool_check(exprs, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(exprs)} rules found" in result.stdout


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    program("prometheus")  # fail before the minute it takes to start Berth
    tmp = tmp_path_factory.mktemp("dashboards")
    server = start_berth(
        tmp,
        None,
        workers=True,
        extra_env={"BERTH_NODE_USAGE_PERIOD_S": "1", "BERTH_RAY_NUM_CPUS": "2"},
    )
    port = server.url.rsplit(":", 1)[1]
    try:
        with Prometheus(tmp / "prometheus", {"berth": [f"127.0.0.1:{port}"]}) as prom:
            yield server, prom
    finally:
        stop_berth_and_ray(server.process, server.data_dir)


def test_every_panel_query_returns_data(cluster):
    server, prom = cluster
    ns = f"dash-{uuid.uuid4().hex[:6]}"
    server.kubectl("create", "namespace", ns)
    watch = subprocess.Popen(
        ["kubectl", "--kubeconfig", str(server.kubeconfig), "-n", ns, "get", "jobs", "-w"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        server.kubectl("apply", "-f", "-", input=GPU_NODE.format(name=f"sim-gpu-{ns}"))
        for manifest in (
            job("succeeds", "sleep 1"),
            job("fails", "exit 3"),
            job("gpu-runner", "sleep 3600", gpus=6),
            job("gpu-queued", "true", gpus=4),
            job("too-big", "true", cpu="500"),
        ):
            server.kubectl("-n", ns, "apply", "-f", "-", input=manifest)
        server.kubectl("-n", ns, "apply", "-f", "-", input=CRONJOB)
        server.kubectl(
            "-n",
            ns,
            "patch",
            "cronjob",
            "yearly",
            "--subresource=status",
            "--type=merge",
            "-p",
            '{"status":{"lastScheduleTime":"2026-01-01T00:00:00Z"}}',
        )
        server.kubectl(
            "-n",
            ns,
            "wait",
            "--for=condition=complete",
            "job/succeeds",
            "--timeout=120s",
            timeout=150,
        )
        server.kubectl(
            "-n", ns, "wait", "--for=condition=failed", "job/fails", "--timeout=120s", timeout=150
        )
        server.kubectl("-n", ns, "get", "job", "no-such-job", check=False)  # a 404

        # What the scenario must show, by value.
        assert prom.wait_for("sum(berth_node_fragmented_gpus) == 2", 60), prom.query(
            "berth_node_fragmented_gpus"
        )
        assert prom.wait_for(f'berth_jobs{{namespace="{ns}", state="pending"}} == 2', 60), (
            prom.query(f'berth_jobs{{namespace="{ns}"}}')
        )
        assert prom.wait_for('berth_job_failures_total{reason="BackoffLimitExceeded"} >= 1')
        assert prom.wait_for('berth_job_completions_total{reason="CompletionsReached"} >= 1')
        assert prom.wait_for('berth_pod_failures_total{reason="Error"} >= 1')
        assert prom.wait_for('berth_scheduler_unschedulable_pods{reason="Insufficient cpu"} >= 1')
        assert prom.wait_for("berth_node_requested_gpus == 6")
        assert prom.wait_for('berth_api_watch_connections{resource="jobs"} >= 1')
        assert prom.wait_for("berth_job_queue_wait_seconds_count >= 3")
        assert prom.wait_for("berth_scheduler_pod_scheduling_seconds_count >= 3")
        assert prom.wait_for('berth_job_duration_seconds_count{result="complete"} >= 1')
        assert prom.wait_for("sum(berth_pod_launches_total) >= 2")
        assert prom.wait_for('berth_scheduler_schedule_attempts_total{result="scheduled"} >= 3')
        assert prom.wait_for("rate(berth_node_cpu_usage_seconds_total[1m]) > 0")
        assert prom.wait_for("berth_node_memory_usage_bytes > 0")
        assert prom.wait_for("berth_cronjob_next_schedule_time_seconds > time()")
        assert prom.wait_for("sum(berth_node_ready) >= 2")

        empty = []
        for board, title, expr in dashboard_queries():
            if "DCGM_" in expr:
                continue  # NVIDIA's exporter only; parsed by promtool above
            if not prom.wait_for(expr, 30):
                empty.append(f"{board} / {title}: {expr}")
        assert not empty, "panels without data:\n" + "\n".join(empty)
    finally:
        watch.terminate()
        watch.wait(timeout=10)
        server.kubectl("delete", "namespace", ns, "--wait=false", check=False)
        server.kubectl("delete", "node", f"sim-gpu-{ns}", "--wait=false", check=False)
