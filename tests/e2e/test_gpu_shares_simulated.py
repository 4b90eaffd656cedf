"""GPU shares through kubectl on simulated nodes: pods of berth.dev/gpu-milli are placed per
device (the device on the pod's annotation), no device is ever over-committed, ``kubectl get
pods -o wide`` shows where each went, ``kubectl describe node`` lists every device with what
is allocated on it and to whom, ``nodeAffinity In`` over ``nvidia.com/gpu.product`` (set from
the manifest on simulated nodes) picks the model, and a bad share is a 422 naming the
field."""

from __future__ import annotations

import re
import uuid

from berth.platform.resources import quantity
from berth.workers.control.gpu_allocation import ALLOCATION_ANNOTATION
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
    model_of = {}
    for model in ("A100", "T4"):
        name = f"sim-{uuid.uuid4().hex[:8]}"
        k("apply", "-f", "-", input=NODE.format(name=name, pool=pool, model=model))
        nodes.append(name)
        model_of[name] = model
    sizes = [500, 500, 300, 700, 250, 250, 500, 1000, 400]  # 4,400 of 4,000: one must wait
    schedulers = ["default-scheduler", "binpack", "spread", "fragmentation-aware"]
    for i, milli in enumerate(sizes):
        k(
            "-n",
            namespace,
            "apply",
            "-f",
            "-",
            input=POD.format(name=f"s{i}", milli=milli, pool=pool, scheduler=schedulers[i % 4]),
        )

    def settled():
        pods = berth_server.kubectl_json("-n", namespace, "get", "pods")["items"]
        bound = [p for p in pods if p["spec"].get("nodeName")]
        pending = [
            p
            for p in pods
            if not p["spec"].get("nodeName")
            and any(
                c["type"] == "PodScheduled" and c["status"] == "False"
                for c in p["status"].get("conditions") or []
            )
        ]
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
        message = next(
            c["message"] for c in pod["status"]["conditions"] if c["type"] == "PodScheduled"
        )
        assert f"Insufficient {MILLI}" in message
    for node in {p["spec"]["nodeName"] for p in bound}:
        # kubectl adds up the requests of the node's pods against its allocatable.
        described = k("describe", "node", node).stdout
        allocated = described.split("Allocated resources:", 1)[1]
        [row] = [line.split() for line in allocated.splitlines() if line.strip().startswith(MILLI)]
        assert quantity.to_int(row[1]) == sum(used.get((node, d), 0) for d in ("0", "1"))
    for node in {p["spec"]["nodeName"] for p in bound}:
        model = model_of[node]
        want = {d: used.get((node, d), 0) for d in ("0", "1")}
        holders = {
            d: sorted(
                f"{namespace}/{p['metadata']['name']}"
                for p in bound
                if p["spec"]["nodeName"] == node
                and p["metadata"]["annotations"]["berth.dev/gpu-devices"] == d
            )
            for d in ("0", "1")
        }
        # Written by the node's reporter after the binds: wait until describe shows them.
        # The lambda runs only inside this iteration (wait_for calls it now), so the loop
        # variables it reads are this iteration's.
        rows = wait_for(
            lambda: (
                (r := described_devices(k("describe", "node", node).stdout))  # noqa: B023
                == {d: (model, want[d], holders[d]) for d in ("0", "1")}  # noqa: B023
                and r
            ),
            timeout=30,
            what=f"describe node {node} to list its devices",
        )
        assert rows
    wide = k("-n", namespace, "get", "pods", "-o", "wide").stdout
    for pod in bound:
        line = next(row for row in wide.splitlines() if row.startswith(pod["metadata"]["name"]))
        assert pod["spec"]["nodeName"] in line


def described_devices(described: str) -> dict[str, tuple[str, int, list[str]]]:
    """The devices listed under the annotation in ``kubectl describe node``'s Annotations:
    device -> (model, milli allocated, pods)."""
    section = described.split("Annotations:", 1)[1].split(f"{ALLOCATION_ANNOTATION}:", 1)
    if len(section) < 2:
        return {}
    rows = {}
    for line in section[1].splitlines()[1:]:
        match = re.fullmatch(r"\s+(\d+) (\S+) (\d+)/1000 (\S+)", line)
        if not match:
            break
        pods = [] if match[4] == "-" else match[4].split(",")
        rows[match[1]] = (match[2], int(match[3]), pods)
    return rows


AFFINITY_POD = """
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  containers:
  - name: main
    image: busybox
    command: ["sleep", "infinity"]
    resources:
      limits:
        {resource}: "{amount}"
  nodeSelector:
    pool: "{pool}"
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions:
          - key: nvidia.com/gpu.product
            operator: In
            values: [{models}]
"""


def test_node_affinity_on_the_gpu_product_picks_the_model(berth_server, namespace, nodes):
    k = berth_server.kubectl
    pool = uuid.uuid4().hex[:8]
    by_model = {}
    for model in ("A100", "T4"):
        name = f"sim-{uuid.uuid4().hex[:8]}"
        k("apply", "-f", "-", input=NODE.format(name=name, pool=pool, model=model))
        nodes.append(name)
        by_model[model] = name
    wanted = {
        "t4-whole": ("nvidia.com/gpu", 1, "T4"),
        "t4-share": (MILLI, 400, "T4"),
        "a100": (MILLI, 500, "A100"),
        "either": ("nvidia.com/gpu", 1, "A100, T4"),
        "h100": (MILLI, 100, "H100"),
    }
    for name, (resource, amount, models) in wanted.items():
        k(
            "-n",
            namespace,
            "apply",
            "-f",
            "-",
            input=AFFINITY_POD.format(
                name=name, resource=resource, amount=amount, pool=pool, models=models
            ),
        )

    def placed():
        pods = {
            p["metadata"]["name"]: p
            for p in berth_server.kubectl_json("-n", namespace, "get", "pods")["items"]
        }
        h100 = pods.get("h100", {}).get("status", {}).get("conditions") or []
        bound = {n: p["spec"].get("nodeName") for n, p in pods.items()}
        return (
            len(bound) == 5
            and all(bound[n] for n in wanted if n != "h100")
            and any(c["type"] == "PodScheduled" and c["status"] == "False" for c in h100)
            and (bound, h100)
        )

    bound, h100 = wait_for(placed, timeout=60, what="four pods bound, the H100 one pending")
    assert bound["t4-whole"] == bound["t4-share"] == by_model["T4"]
    assert bound["a100"] == by_model["A100"]
    assert bound["either"] in by_model.values()
    assert bound["h100"] is None
    message = next(c["message"] for c in h100 if c["type"] == "PodScheduled")
    assert "didn't match Pod's node affinity/selector" in message


def test_a_share_over_one_gpu_is_rejected_naming_the_field(berth_server, namespace):
    result = berth_server.kubectl(
        "-n",
        namespace,
        "apply",
        "-f",
        "-",
        check=False,
        input=POD.format(name="big", milli=1500, pool="x", scheduler="default-scheduler"),
    )
    assert result.returncode != 0
    assert f"spec.containers[0].resources.limits[{MILLI}]" in result.stderr
    assert "1 to 1000" in result.stderr
