"""GPU shares through kubectl on simulated nodes: pods of berth.dev/gpu-milli are placed per
device (the device on the pod's annotation), no device is ever over-committed, ``kubectl get
pods -o wide`` shows where each went, and a bad share is a 422 naming the field."""

from __future__ import annotations

import uuid

from berth.platform.resources import quantity

from tests.support import wait_for

MILLI = "berth.dev/gpu-milli"
NODE = """
apiVersion: v1
kind: Node
metadata:
  name: {name}
  labels:
    berth.dev/simulated: "true"
    pool: "{pool}"
    nvidia.com/gpu.product: {model}
status:
  capacity:
    cpu: "32"
    memory: 256Gi
    nvidia.com/gpu: "2"
    berth.dev/gpu-milli: "2000"
    pods: "110"
"""
POD = """
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  schedulerName: {scheduler}
  containers:
  - name: main
    image: busybox
    command: ["sleep", "infinity"]
    resources:
      limits:
        berth.dev/gpu-milli: "{milli}"
  nodeSelector:
    pool: "{pool}"
"""


def test_shares_fill_devices_without_over_committing_any(berth_server, namespace, nodes):
    k = berth_server.kubectl
    pool = uuid.uuid4().hex[:8]
    for model in ("A100", "T4"):
        name = f"sim-{uuid.uuid4().hex[:8]}"
        k("apply", "-f", "-", input=NODE.format(name=name, pool=pool, model=model))
        nodes.append(name)
    sizes = [500, 500, 300, 700, 250, 250, 500, 1000, 400]   # 4,400 of 4,000: one must wait
    schedulers = ["default-scheduler", "binpack", "spread", "fragmentation-aware"]
    for i, milli in enumerate(sizes):
        k("-n", namespace, "apply", "-f", "-", input=POD.format(
            name=f"s{i}", milli=milli, pool=pool, scheduler=schedulers[i % 4]))

    def settled():
        pods = berth_server.kubectl_json("-n", namespace, "get", "pods")["items"]
        bound = [p for p in pods if p["spec"].get("nodeName")]
        pending = [p for p in pods if not p["spec"].get("nodeName") and any(
            c["type"] == "PodScheduled" and c["status"] == "False"
            for c in p["status"].get("conditions") or [])]
        return len(bound) + len(pending) == len(sizes) and (bound, pending)

    bound, pending = wait_for(settled, timeout=60, what="every pod bound or unschedulable")
    used: dict[tuple[str, str], int] = {}
    for pod in bound:
        device = pod["metadata"]["annotations"]["berth.dev/gpu-devices"]
        assert device in ("0", "1")
        milli = int(pod["spec"]["containers"][0]["resources"]["limits"][MILLI])
        key = (pod["spec"]["nodeName"], device)
        used[key] = used.get(key, 0) + milli
    assert used and max(used.values()) <= 1000, used
    assert sum(used.values()) >= 3000 and pending, (used, pending)
    for pod in pending:
        message = next(c["message"] for c in pod["status"]["conditions"]
                       if c["type"] == "PodScheduled")
        assert f"Insufficient {MILLI}" in message
    for node in {p["spec"]["nodeName"] for p in bound}:
        # kubectl adds up the requests of the node's pods against its allocatable.
        described = k("describe", "node", node).stdout
        allocated = described.split("Allocated resources:", 1)[1]
        [row] = [line.split() for line in allocated.splitlines()
                 if line.strip().startswith(MILLI)]
        assert quantity.to_int(row[1]) == sum(used.get((node, d), 0) for d in ("0", "1"))
    wide = k("-n", namespace, "get", "pods", "-o", "wide").stdout
    for pod in bound:
        line = next(row for row in wide.splitlines() if row.startswith(pod["metadata"]["name"]))
        assert pod["spec"]["nodeName"] in line


def test_a_share_over_one_gpu_is_rejected_naming_the_field(berth_server, namespace):
    result = berth_server.kubectl("-n", namespace, "apply", "-f", "-", check=False,
                                  input=POD.format(name="big", milli=1500, pool="x",
                                                   scheduler="default-scheduler"))
    assert result.returncode != 0
    assert f"spec.containers[0].resources.limits[{MILLI}]" in result.stderr
    assert "1 to 1000" in result.stderr
