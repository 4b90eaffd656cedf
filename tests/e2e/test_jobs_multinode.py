"""Jobs on a multi-node Ray cluster that ``berth up --ray-address`` joined: every pod runs on
the Ray node the scheduler chose, GPU pods get GPUs of their own, a pod no node can hold says
why, and a Job whose node is lost replaces its pod on another node and completes.

The cluster (``tests/e2e/ray_cluster.py``): a head with 1 CPU, a node with 2 CPUs and 2 (fake)
GPUs labelled ``gpu: nvidia``, a node with 2 CPUs labelled ``zone: c``; fast health checks so
Ray declares a killed node dead in ~2 s. A pod's ``$BERTH_RAY_NODE_ID`` is the Ray node it
runs on, as Ray itself says (``berth/workers/node/pod_task.py``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from berth.workers.control import local_ray
from tests.e2e.jobs_support import (
    PodWatch,
    apply,
    berth_up,
    condition,
    events,
    get_job,
    is_loopback,
    job,
    listening_addresses,
    new_namespace,
    pods_of,
    wait_for,
    wait_job,
)
from tests.e2e.ray_cluster import FAST_HEALTH_CHECKS, RayCluster

pytestmark = pytest.mark.e2e

NODE_ID = "berth.dev/ray-node-id"
WORKERS = {
    "gpu": {"num_cpus": 2, "num_gpus": 2, "labels": {"gpu": "nvidia"}},
    "cpu": {"num_cpus": 2, "labels": {"zone": "c"}},
}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with RayCluster(
        tmp_path_factory.mktemp("jobs-ray"),
        head={"num_cpus": 1},
        workers=WORKERS,
        system_config=FAST_HEALTH_CHECKS,
    ) as started:
        yield started


@pytest.fixture(scope="module")
def server(cluster, tmp_path_factory):
    with berth_up(tmp_path_factory.mktemp("jobs-multinode"), env=cluster.berth_env) as up:
        wait_for(lambda: len(ready_nodes(up)) == 3, timeout=60, what="3 Ready nodes")
        yield up


@pytest.fixture
def ns(server):
    return new_namespace(server)


def ready_nodes(server) -> dict[str, dict]:
    """Ready Nodes by the id of their Ray node."""
    listed = server.kubectl_json("get", "nodes")["items"]
    return {
        n["metadata"]["annotations"][NODE_ID]: n
        for n in listed
        if (condition(n, "Ready") or {}).get("status") == "True"
    }


def node_name(server, ray_id: str) -> str:
    return ready_nodes(server)[ray_id]["metadata"]["name"]


def ran_on(server, ns: str, pod: dict) -> str:
    """The Ray node id the pod's container printed first."""
    return server.kubectl("-n", ns, "logs", pod["metadata"]["name"]).stdout.split()[0]


def test_the_cluster_listens_on_loopback_only_and_requires_its_token(cluster):
    members = set(local_ray.session_members(cluster.session))
    listening = listening_addresses(members)
    assert len(listening) >= 4, listening  # the GCS and a raylet per node at least
    assert all(is_loopback(address) for address in listening), listening
    [gcs] = [
        pid
        for pid in members
        if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].endswith(b"gcs_server")
    ]
    environ = dict(
        item.split("=", 1)
        for item in Path(f"/proc/{gcs}/environ").read_text().split("\0")
        if "=" in item
    )
    assert environ["RAY_AUTH_MODE"] == "token"
    assert environ["RAY_AUTH_TOKEN_PATH"] == str(cluster.directory / "auth_token")


def test_a_berth_up_that_joined_a_cluster_leaves_no_link_to_a_ray_of_its_own(server):
    # Only an embedded Ray needs a short link to its temp dir (unix socket paths are short).
    links = [
        entry
        for entry in Path("/tmp").iterdir()
        if entry.is_symlink() and str(entry.readlink()).startswith(str(server.data_dir))
    ]
    assert not links


def test_every_pod_runs_on_the_ray_node_of_the_node_it_was_bound_to(server, cluster, ns):
    head = node_name(server, cluster.node_ids["head"])
    pinned = {
        "on-gpu": ({"gpu": "nvidia"}, "gpu"),
        "on-c": ({"zone": "c"}, "cpu"),
        "on-head": ({"kubernetes.io/hostname": head}, "head"),
    }
    for name, (selector, _) in pinned.items():
        apply(server, ns, job(name, "echo $BERTH_RAY_NODE_ID", pod={"nodeSelector": selector}))
    # Four pods of 1 CPU each: more than any node holds, so the scheduler spreads them.
    apply(
        server,
        ns,
        job(
            "free",
            "echo $BERTH_RAY_NODE_ID; sleep 1",
            completions=4,
            parallelism=4,
            resources={"requests": {"cpu": "1"}},
        ),
    )
    for name in [*pinned, "free"]:
        wait_job(server, ns, name, timeout=120)

    nodes = {n["metadata"]["name"]: n for n in server.kubectl_json("get", "nodes")["items"]}
    for name, (_, expected) in pinned.items():
        [pod] = pods_of(server, ns, name)
        assert ran_on(server, ns, pod) == cluster.node_ids[expected], name
        assert (
            nodes[pod["spec"]["nodeName"]]["metadata"]["annotations"][NODE_ID]
            == cluster.node_ids[expected]
        )
    spread = pods_of(server, ns, "free")
    for pod in spread:
        assert (
            ran_on(server, ns, pod)
            == nodes[pod["spec"]["nodeName"]]["metadata"]["annotations"][NODE_ID]
        )
    assert len({p["spec"]["nodeName"] for p in spread}) >= 2


def test_gpu_pods_running_together_see_different_gpus(server, cluster, ns, tmp_path):
    # The two GPU pods wait for each other (up to 30 s) so they hold their GPUs at once.
    meet = tmp_path / "meet"
    meet.mkdir()
    together = (
        "touch /meet/$HOSTNAME; for i in $(seq 300); do "
        "[ $(ls /meet | wc -l) -ge 2 ] && break; sleep 0.1; done; "
        "echo $BERTH_RAY_NODE_ID [$CUDA_VISIBLE_DEVICES]"
    )
    apply(
        server,
        ns,
        job(
            "gpus",
            together,
            completions=2,
            parallelism=2,
            resources={"limits": {"nvidia.com/gpu": "1"}},
            mounts=[{"name": "meet", "mountPath": "/meet"}],
            pod={"volumes": [{"name": "meet", "hostPath": {"path": str(meet)}}]},
        ),
        job(
            "nogpu",
            "echo $BERTH_RAY_NODE_ID [$CUDA_VISIBLE_DEVICES]",
            pod={"nodeSelector": {"gpu": "nvidia"}},
        ),
    )
    wait_job(server, ns, "gpus", timeout=120)
    wait_job(server, ns, "nogpu", timeout=120)

    gpu_node = cluster.node_ids["gpu"]
    seen = sorted(
        server.kubectl("-n", ns, "logs", p["metadata"]["name"]).stdout
        for p in pods_of(server, ns, "gpus")
    )
    assert seen == [f"{gpu_node} [0]\n", f"{gpu_node} [1]\n"]
    assert server.kubectl("-n", ns, "logs", "job/nogpu").stdout == f"{gpu_node} []\n"


def test_two_half_gpu_pods_share_one_gpu_and_a_third_gets_the_other(server, cluster, ns, tmp_path):
    # Three pods of 500 berth.dev/gpu-milli on the node with 2 (fake) GPUs, all running at
    # once (they wait for each other): two share a device, the third goes to the other.
    meet = tmp_path / "meet"
    meet.mkdir()
    together = (
        "touch /meet/$HOSTNAME; for i in $(seq 300); do "
        "[ $(ls /meet | wc -l) -ge 3 ] && break; sleep 0.1; done; "
        "echo $BERTH_RAY_NODE_ID [$CUDA_VISIBLE_DEVICES]"
    )
    apply(
        server,
        ns,
        job(
            "halves",
            together,
            completions=3,
            parallelism=3,
            resources={"limits": {"berth.dev/gpu-milli": "500"}},
            mounts=[{"name": "meet", "mountPath": "/meet"}],
            pod={"volumes": [{"name": "meet", "hostPath": {"path": str(meet)}}]},
        ),
    )
    wait_job(server, ns, "halves", timeout=120)
    gpu_node = cluster.node_ids["gpu"]
    pods = pods_of(server, ns, "halves")
    seen = sorted(server.kubectl("-n", ns, "logs", p["metadata"]["name"]).stdout for p in pods)
    assert len(set(seen)) == 2 and all(line.startswith(f"{gpu_node} [") for line in seen), seen
    shared = max(set(seen), key=seen.count)
    assert seen.count(shared) == 2, seen
    annotated = sorted(p["metadata"]["annotations"]["berth.dev/gpu-devices"] for p in pods)
    assert sorted(f"{gpu_node} [{d}]\n" for d in annotated) == seen


@pytest.mark.parametrize(
    "selector, reasons",
    [
        ({}, "3 Insufficient nvidia.com/gpu."),
        (
            {"zone": "c"},
            "1 Insufficient nvidia.com/gpu, 2 node(s) didn't match Pod's node affinity/selector.",
        ),
    ],
    ids=["any-node", "zone-c"],
)
def test_a_pod_no_node_can_hold_stays_pending_and_says_why(server, ns, selector, reasons):
    apply(
        server,
        ns,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "greedy"},
            "spec": {
                "nodeSelector": selector,
                "containers": [
                    {
                        "name": "c",
                        "image": "busybox",
                        "command": ["true"],
                        "resources": {"limits": {"nvidia.com/gpu": "16"}},
                    }
                ],
            },
        },
    )

    def verdict():
        pod = server.kubectl_json("-n", ns, "get", "pod", "greedy")
        return condition(pod, "PodScheduled")

    scheduled = wait_for(verdict, timeout=30, what="the scheduler's verdict")
    assert (scheduled["status"], scheduled["reason"]) == ("False", "Unschedulable")
    assert scheduled["message"].startswith(f"0/3 nodes are available: {reasons}")
    described = server.kubectl("-n", ns, "describe", "pod", "greedy").stdout
    [failed] = [e for e in events(described) if e["Reason"] == "FailedScheduling"]
    assert (failed["Type"], failed["From"]) == ("Warning", "default-scheduler")
    assert failed["Message"].startswith(f"0/3 nodes are available: {reasons}")
    assert re.search(r"^Status:\s+Pending$", described, re.M)
    assert "nodeName" not in server.kubectl_json("-n", ns, "get", "pod", "greedy")["spec"]
    server.kubectl("-n", ns, "delete", "pod", "greedy", timeout=90)


def test_a_job_whose_node_is_lost_replaces_its_pod_on_another_node(server, cluster, ns):
    # Two nodes of their own, so the rest of the cluster is left whole.
    spares = {
        cluster.add_node(name, num_cpus=1, labels={"pool": "loss"}): name
        for name in ("loss-a", "loss-b")
    }
    wait_for(
        lambda: set(spares) <= set(ready_nodes(server)), timeout=60, what="the spare nodes Ready"
    )
    watch = PodWatch(server, ns)
    try:
        apply(
            server,
            ns,
            job(
                "survivor",
                "echo $BERTH_RAY_NODE_ID; sleep 8",
                backoffLimit=0,
                podFailurePolicy={
                    "rules": [
                        {
                            "action": "Ignore",
                            "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}],
                        }
                    ]
                },
                pod={"nodeSelector": {"pool": "loss"}},
            ),
        )

        def running():
            pods = [
                p for p in pods_of(server, ns, "survivor") if p["status"].get("phase") == "Running"
            ]
            return pods[0] if pods else None

        first = wait_for(running, timeout=60, what="the first pod running")
        names = {ray_id: node_name(server, ray_id) for ray_id in spares}
        [lost_id] = [i for i, name in names.items() if name == first["spec"]["nodeName"]]
        cluster.remove_node(spares[lost_id])
        wait_job(server, ns, "survivor", timeout=120)

        states = watch.of(first["metadata"]["name"])
        failed = next(p for p in states if p["status"].get("phase") == "Failed")
        disruption = condition(failed, "DisruptionTarget")
        assert (disruption["status"], disruption["reason"]) == ("True", "DeletionByTaintManager")
        status = get_job(server, ns, "survivor")["status"]
        assert status["succeeded"] == 1 and "failed" not in status  # Ignored: not counted
        [survivor] = [
            p for p in pods_of(server, ns, "survivor") if p["status"]["phase"] == "Succeeded"
        ]
        [other] = set(spares) - {lost_id}
        assert ran_on(server, ns, survivor) == other
        assert survivor["spec"]["nodeName"] == names[other]
        lost = server.kubectl_json("get", "node", first["spec"]["nodeName"])
        assert condition(lost, "Ready")["status"] == "Unknown"
    finally:
        watch.close()
        for name in set(spares.values()) & set(cluster.node_ids):
            cluster.remove_node(name)
