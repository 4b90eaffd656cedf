"""Simulated nodes through kubectl: apply a Node with ``berth.dev/simulated: "true"``, and
the scheduler and the simulated kubelet treat it as a real one (control plane only, no Ray).

Needs ``berth up --no-workers`` to run the scheduler loop and the simulated kubelet (they
are control-plane parts: ``berth.server`` starts them whenever controllers run).
"""

from __future__ import annotations

import uuid

from tests.support import wait_for

NODE = """
apiVersion: v1
kind: Node
metadata:
  name: {name}
  labels:
    berth.dev/simulated: "true"
{labels}
status:
  capacity:
    cpu: "32"
    memory: 256Gi
    nvidia.com/gpu: "8"
    pods: "110"
"""

# The lecture's example (slide 40), with a GPU request beside it.
LECTURE_POD = """
apiVersion: v1
kind: Pod
metadata:
  name: pod-label-example
  labels:
    app: nginx
    env: prod
spec:
  containers:
  - name: nginx
    image: nginx:stable-alpine
    ports:
    - containerPort: 80
  nodeSelector:
    gpu: nvidia
"""

POD = """
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
        nvidia.com/gpu: "{gpus}"
  nodeSelector:
    {selector}
"""


def apply_node(server, labels: dict[str, str], made: list[str]) -> str:
    name = f"sim-{uuid.uuid4().hex[:8]}"
    lines = "\n".join(f'    {k}: "{v}"' for k, v in labels.items())
    out = server.kubectl("apply", "-f", "-", input=NODE.format(name=name, labels=lines)).stdout
    assert f"node/{name} created" in out
    made.append(name)
    wait_for(
        lambda: condition(server.kubectl_json("get", "node", name), "Ready") == "True",
        what=f"node {name} Ready",
    )
    return name


def condition(obj: dict, kind: str) -> str | None:
    return next(
        (
            c["status"]
            for c in (obj.get("status") or {}).get("conditions") or []
            if c["type"] == kind
        ),
        None,
    )


def wait_running(server, namespace: str, name: str) -> dict:
    # Polled rather than ``kubectl wait``: that one costs ten seconds per call until Berth's
    # watch sends its headers before the first event.
    return wait_for(
        lambda: (
            (pod := server.kubectl_json("-n", namespace, "get", "pod", name))
            and condition(pod, "Ready") == "True"
            and pod
        ),
        what=f"pod {name} Ready",
    )


def test_lecture_pod_with_node_selector_runs_on_the_simulated_gpu_node(
    berth_server, namespace, nodes
):
    k = berth_server.kubectl
    plain = apply_node(berth_server, {}, nodes)
    gpu = apply_node(berth_server, {"gpu": "nvidia"}, nodes)
    k("-n", namespace, "apply", "-f", "-", input=LECTURE_POD)
    k("-n", namespace, "wait", "--for=condition=Ready", "pod/pod-label-example", "--timeout=30s")
    pod = berth_server.kubectl_json("-n", namespace, "get", "pod", "pod-label-example")
    assert pod["spec"]["nodeName"] == gpu != plain
    assert pod["status"]["phase"] == "Running"
    [status] = pod["status"]["containerStatuses"]
    assert status["ready"] and status["started"] and status["state"]["running"]["startedAt"]
    row = k("-n", namespace, "get", "pod", "pod-label-example", "-o", "wide").stdout
    assert "Running" in row and gpu in row
    described = k("-n", namespace, "describe", "pod", "pod-label-example").stdout
    assert f"Successfully assigned {namespace}/pod-label-example to {gpu}" in described


def test_describe_shows_why_a_pod_asking_for_sixteen_gpus_stays_pending(
    berth_server, namespace, nodes
):
    pool = uuid.uuid4().hex[:8]
    apply_node(berth_server, {"pool": pool}, nodes)
    berth_server.kubectl(
        "-n",
        namespace,
        "apply",
        "-f",
        "-",
        input=POD.format(name="greedy", gpus=16, selector=f'pool: "{pool}"'),
    )
    described = wait_for(
        lambda: (
            (out := berth_server.kubectl("-n", namespace, "describe", "pod", "greedy").stdout)
            and "FailedScheduling" in out
            and out
        ),
        what="FailedScheduling in describe",
    )
    assert "Warning  FailedScheduling" in described
    assert "default-scheduler" in described
    assert "Insufficient nvidia.com/gpu" in described
    pod = berth_server.kubectl_json("-n", namespace, "get", "pod", "greedy")
    assert pod["status"]["phase"] == "Pending" and not pod["spec"].get("nodeName")
    [condition] = [c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled"]
    assert (condition["status"], condition["reason"]) == ("False", "Unschedulable")
    assert condition["message"].startswith("0/")


def test_cordon_keeps_new_pods_pending_and_uncordon_lets_them_run(berth_server, namespace, nodes):
    k = berth_server.kubectl
    pool = uuid.uuid4().hex[:8]
    node = apply_node(berth_server, {"pool": pool}, nodes)
    selector = f'pool: "{pool}"'
    k(
        "-n",
        namespace,
        "apply",
        "-f",
        "-",
        input=POD.format(name="before", gpus=1, selector=selector),
    )
    wait_running(berth_server, namespace, "before")
    assert f"node/{node} cordoned" in k("cordon", node).stdout
    assert berth_server.kubectl_json("get", "node", node)["spec"]["unschedulable"] is True
    k(
        "-n",
        namespace,
        "apply",
        "-f",
        "-",
        input=POD.format(name="after", gpus=1, selector=selector),
    )

    def unschedulable():
        pod = berth_server.kubectl_json("-n", namespace, "get", "pod", "after")
        return next(
            (
                c
                for c in pod["status"].get("conditions") or []
                if c["type"] == "PodScheduled" and c["status"] == "False"
            ),
            None,
        )

    assert "node(s) were unschedulable" in wait_for(unschedulable, what="unschedulable")["message"]
    assert "node(s) were unschedulable" in k("-n", namespace, "describe", "pod", "after").stdout
    before = berth_server.kubectl_json("-n", namespace, "get", "pod", "before")
    assert before["status"]["phase"] == "Running", "cordon evicts nothing"
    k("uncordon", node)
    assert wait_running(berth_server, namespace, "after")["spec"]["nodeName"] == node


def test_deleting_a_pod_on_a_simulated_node_is_immediate(berth_server, namespace, nodes):
    k = berth_server.kubectl
    pool = uuid.uuid4().hex[:8]
    apply_node(berth_server, {"pool": pool}, nodes)
    k(
        "-n",
        namespace,
        "apply",
        "-f",
        "-",
        input=POD.format(name="short", gpus=1, selector=f'pool: "{pool}"'),
    )
    wait_running(berth_server, namespace, "short")
    k("-n", namespace, "delete", "pod", "short", "--wait=false")
    wait_for(
        lambda: k("-n", namespace, "get", "pod", "short", check=False).returncode != 0,
        timeout=5,
        what="pod gone",
    )
