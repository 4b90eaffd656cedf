"""The lecture's Jobs and Pods (``examples/lecture``) applied as written with kubectl and run on
Ray: the ConfigMap and Secret Jobs log the values they read (env, command line, volume), the
pod with ``nodeSelector: {gpu: nvidia}`` runs on the node labelled so, the volume pod runs its
writer until deleted.

``berth up`` with workers on SQLite, its node labelled ``gpu: nvidia`` (``BERTH_NODE_LABELS``).
Under Berth's host runtime an image is recorded, not pulled: a container without a command
(the lecture's nginx) cannot start, and says so, while the rest of its pod runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.e2e.jobs_support import (
    berth_up,
    condition,
    events,
    live_processes_mentioning,
    new_namespace,
    wait_for,
    wait_job,
)

pytestmark = pytest.mark.e2e

LECTURE = Path(__file__).resolve().parents[2] / "examples" / "lecture"
LOGGED = {  # Job -> its log: ConfigMap city "Ann Arbor", Secret username "example"
    "cm-env-example": "Ann Arbor\n",
    "secret-env-example": "example\n",
    "cm-cmd-example": "Hello Ann Arbor!\n",
    "secret-cmd-example": "Hello example!\n",
    "cm-vol-example": "Ann Arbor",
    "secret-vol-example": "example",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with berth_up(
        tmp_path_factory.mktemp("jobs-lecture"),
        env={"BERTH_NODE_LABELS": json.dumps({"gpu": "nvidia"})},
    ) as up:
        yield up


@pytest.fixture
def ns(server):
    return new_namespace(server)


def lecture_pod(name: str) -> dict:
    docs = yaml.safe_load_all((LECTURE / "pods.yaml").read_text())
    return next(d for d in docs if d and d["metadata"]["name"] == name)


def apply_pod(server, ns: str, pod: dict) -> None:
    server.kubectl("-n", ns, "apply", "-f", "-", input=yaml.safe_dump(pod))


def get_pod(server, ns: str, name: str) -> dict:
    return server.kubectl_json("-n", ns, "get", "pod", name)


def container(pod: dict, name: str) -> dict:
    return next(s for s in pod["status"].get("containerStatuses") or [] if s["name"] == name)


def test_the_lecture_jobs_log_the_configmap_and_secret_values(server, ns):
    server.kubectl("-n", ns, "apply", "-f", str(LECTURE / "config.yaml"))
    out = server.kubectl("-n", ns, "apply", "-f", str(LECTURE / "jobs.yaml")).stdout
    assert out.count("created") == len(LOGGED)
    for name in LOGGED:
        wait_job(server, ns, name, timeout=120)
    for name, expected in LOGGED.items():
        assert server.kubectl("-n", ns, "logs", f"job/{name}").stdout == expected, name


def test_the_lecture_node_selector_pod_runs_on_the_gpu_node(server, ns):
    apply_pod(server, ns, lecture_pod("pod-label-example"))

    def started():
        pod = get_pod(server, ns, "pod-label-example")
        return pod if pod["status"].get("phase") == "Running" else None

    pod = wait_for(started, timeout=60, what="the lecture pod running")
    node = server.kubectl_json("get", "node", pod["spec"]["nodeName"])
    assert node["metadata"]["labels"]["gpu"] == "nvidia"
    assert condition(pod, "PodScheduled")["status"] == "True"
    assert pod["status"]["hostIP"] == node["status"]["addresses"][0]["address"]
    described = server.kubectl("-n", ns, "describe", "pod", "pod-label-example").stdout
    assert (
        "Normal",
        "Scheduled",
        "default-scheduler",
        f"Successfully assigned {ns}/pod-label-example to {node['metadata']['name']}",
    ) in [(e["Type"], e["Reason"], e["From"], e["Message"]) for e in events(described)]
    # nginx's image is not run here: its container reports why it cannot start.
    nginx = wait_for(
        lambda: (
            container(get_pod(server, ns, "pod-label-example"), "nginx").get("lastState") or {}
        ).get("terminated"),
        timeout=30,
        what="the nginx container's start reported",
    )
    assert (nginx["reason"], nginx["message"]) == ("StartError", "no command specified")
    server.kubectl("-n", ns, "delete", "pod", "pod-label-example", timeout=90)


def test_a_node_selector_no_node_matches_leaves_the_pod_pending(server, ns):
    pod = lecture_pod("pod-label-example")
    pod["spec"]["nodeSelector"] = {"gpu": "amd"}
    apply_pod(server, ns, pod)

    def unschedulable():
        found = condition(get_pod(server, ns, "pod-label-example"), "PodScheduled")
        return found if found and found["status"] == "False" else None

    scheduled = wait_for(unschedulable, timeout=30, what="PodScheduled=False")
    assert scheduled["reason"] == "Unschedulable"
    described = server.kubectl("-n", ns, "describe", "pod", "pod-label-example").stdout
    [failed] = [e for e in events(described) if e["Reason"] == "FailedScheduling"]
    assert failed["Message"].startswith(
        "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."
    )
    assert "spec.nodeName" not in json.dumps(get_pod(server, ns, "pod-label-example")["spec"])
    server.kubectl("-n", ns, "delete", "pod", "pod-label-example", timeout=90)


def test_the_lecture_volume_pod_runs_its_writer_until_deleted(server, ns):
    apply_pod(server, ns, lecture_pod("volume-example"))
    marker = "date >> /html/index.html"

    def writing():
        pod = get_pod(server, ns, "volume-example")
        state = container(pod, "content") if pod["status"].get("containerStatuses") else {}
        return pod if "running" in (state.get("state") or {}) else None

    pod = wait_for(writing, timeout=60, what="the content container running")
    assert pod["status"]["phase"] == "Running"
    assert live_processes_mentioning(marker)
    server.kubectl("-n", ns, "delete", "pod", "volume-example", timeout=90)
    wait_for(lambda: not live_processes_mentioning(marker), timeout=30, what="the writer stopped")


def apply_claim(server, ns: str, host_dir: Path) -> None:
    """The claim the lecture's instructor pod names, and a hostPath volume made for it."""
    host_dir.mkdir()
    server.kubectl(
        "-n",
        ns,
        "apply",
        "-f",
        "-",
        input=yaml.safe_dump_all(
            [
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolume",
                    "metadata": {"name": f"datalake-{ns}"},
                    "spec": {
                        "capacity": {"storage": "1Gi"},
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": "",
                        "hostPath": {"path": str(host_dir)},
                    },
                },
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": {"name": "pvc-datalake-class-blob"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": "",
                        "volumeName": f"datalake-{ns}",
                        "resources": {"requests": {"storage": "1Gi"}},
                    },
                },
            ]
        ),
    )


def test_the_lecture_instructor_pod_runs_its_endless_loop_until_deleted(server, ns, tmp_path):
    apply_claim(server, ns, tmp_path / "datalake")
    apply_pod(server, ns, lecture_pod("instructor-test-01"))
    marker = "while true; do sleep 30; done;"
    wait_for(
        lambda: get_pod(server, ns, "instructor-test-01")["status"].get("phase") == "Running",
        timeout=60,
        what="the instructor pod running",
    )
    assert live_processes_mentioning(marker)
    server.kubectl("-n", ns, "delete", "pod", "instructor-test-01", timeout=90)
    wait_for(lambda: not live_processes_mentioning(marker), timeout=30, what="its loop stopped")
    # The claim first: a volume bound to a claim is protected until the claim goes.
    server.kubectl("-n", ns, "delete", "pvc", "pvc-datalake-class-blob", timeout=60)
    server.kubectl("delete", "pv", f"datalake-{ns}", timeout=60)


def test_the_lecture_instructor_pod_runs_with_a_claim_of_the_default_class(server, ns):
    """The data-lake claim as a user on Berth writes it: no class, so the default
    ``local-path`` class provisions it once the pod is scheduled."""
    server.kubectl(
        "-n",
        ns,
        "apply",
        "-f",
        "-",
        input=yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": "pvc-datalake-class-blob"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Gi"}},
                },
            }
        ),
    )
    apply_pod(server, ns, lecture_pod("instructor-test-01"))
    wait_for(
        lambda: get_pod(server, ns, "instructor-test-01")["status"].get("phase") == "Running",
        timeout=60,
        what="the instructor pod running",
    )
    claim = server.kubectl_json("-n", ns, "get", "pvc", "pvc-datalake-class-blob")
    assert (claim["status"]["phase"], claim["spec"]["storageClassName"]) == ("Bound", "local-path")
    server.kubectl("-n", ns, "delete", "pod", "instructor-test-01", timeout=90)
    server.kubectl("-n", ns, "delete", "pvc", "pvc-datalake-class-blob", timeout=60)


def test_a_claim_naming_its_volume_is_bound(server, ns, tmp_path):
    apply_claim(server, ns, tmp_path / "datalake")
    try:
        wait_for(
            lambda: (
                server.kubectl_json("-n", ns, "get", "pvc", "pvc-datalake-class-blob")[
                    "status"
                ].get("phase")
                == "Bound"
            ),
            timeout=5,
            what="the claim bound",
        )
        volume = server.kubectl_json("get", "pv", f"datalake-{ns}")
        assert volume["status"]["phase"] == "Bound"
        assert volume["spec"]["claimRef"]["name"] == "pvc-datalake-class-blob"
    finally:
        server.kubectl("-n", ns, "delete", "pvc", "pvc-datalake-class-blob", "--wait=false")
        server.kubectl("delete", "pv", f"datalake-{ns}", "--wait=false")


def test_a_pod_whose_claim_does_not_exist_is_not_scheduled(server, ns):
    apply_pod(server, ns, lecture_pod("instructor-test-01"))
    try:
        scheduled = wait_for(
            lambda: condition(get_pod(server, ns, "instructor-test-01"), "PodScheduled"),
            timeout=30,
            what="the scheduler's verdict",
        )
        assert (scheduled["status"], scheduled["reason"]) == ("False", "Unschedulable")
        described = server.kubectl("-n", ns, "describe", "pod", "instructor-test-01").stdout
        [failed] = [e for e in events(described) if e["Reason"] == "FailedScheduling"]
        assert failed["Message"].startswith(
            '0/1 nodes are available: persistentvolumeclaim "pvc-datalake-class-blob" not found.'
        )
    finally:
        server.kubectl("-n", ns, "delete", "pod", "instructor-test-01", "--wait=false")
