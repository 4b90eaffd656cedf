"""The ``berth`` CLI against berth up (control plane only): apply, get, describe, delete, logs
of a job with no pods, server errors as kubectl prints them, and ``run --detach`` — on SQLite
and PostgreSQL. The server comes from ``BERTH_SERVER``, as a person would set it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import yaml

from tests.e2e.conftest import REPO

JOB = """
apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
  labels: {{app: {app}}}
spec:
  parallelism: {parallelism}
  completions: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox
        command: ["sh", "-c", "echo hi"]
"""
CONFIG_MAP = """
apiVersion: v1
kind: ConfigMap
metadata: {{name: {name}}}
data: {{greeting: hello}}
"""


def job_yaml(name: str, app: str = "demo", parallelism: int = 1) -> str:
    return JOB.format(name=name, app=app, parallelism=parallelism)


def berth(
    server, *args: str, input: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    env = {**os.environ, "BERTH_SERVER": server.url}
    return subprocess.run(
        [sys.executable, "-m", "berth.cli.main", *args],
        capture_output=True,
        text=True,
        input=input,
        timeout=timeout,
        cwd=REPO,
        env=env,
    )


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_apply_creates_then_is_unchanged_then_configures(berth_server, namespace):
    manifests = CONFIG_MAP.format(name="cfg") + "---\n" + job_yaml("ap")
    out = ok(berth(berth_server, "apply", "-n", namespace, "-f", "-", input=manifests))
    assert out.splitlines() == ["configmap/cfg created", "job.batch/ap created"]
    rv = berth_server.kubectl_json("-n", namespace, "get", "job", "ap")["metadata"][
        "resourceVersion"
    ]
    out = ok(berth(berth_server, "apply", "-n", namespace, "-f", "-", input=manifests))
    assert out.splitlines() == ["configmap/cfg unchanged", "job.batch/ap unchanged"]
    changed = manifests.replace("parallelism: 1", "parallelism: 2")
    out = ok(berth(berth_server, "apply", "-n", namespace, "-f", "-", input=changed))
    assert out.splitlines() == ["configmap/cfg unchanged", "job.batch/ap configured"]
    job = berth_server.kubectl_json("-n", namespace, "get", "job", "ap")
    assert job["spec"]["parallelism"] == 2
    assert job["metadata"]["resourceVersion"] != rv
    # kubectl reads the same record: the same file applied by kubectl changes nothing.
    assert (
        "job.batch/ap unchanged"
        in berth_server.kubectl("-n", namespace, "apply", "-f", "-", input=changed).stdout
    )


def test_apply_from_a_file_with_the_namespace_in_the_manifest(berth_server, namespace, tmp_path):
    path = tmp_path / "cm.yaml"
    doc = yaml.safe_load(CONFIG_MAP.format(name="from-file"))
    doc["metadata"]["namespace"] = namespace
    path.write_text(yaml.safe_dump(doc))
    assert ok(berth(berth_server, "apply", "-f", str(path))) == "configmap/from-file created\n"
    cm = berth_server.kubectl_json("-n", namespace, "get", "cm", "from-file")
    assert cm["data"] == {"greeting": "hello"}


def test_get_table_wide_name_yaml_json_and_selectors(berth_server, namespace):
    ok(
        berth(
            berth_server,
            "apply",
            "-n",
            namespace,
            "-f",
            "-",
            input=job_yaml("alpha", "a") + "---\n" + job_yaml("beta", "b"),
        )
    )
    table = ok(berth(berth_server, "get", "jobs", "-n", namespace)).splitlines()
    assert table[0].split() == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert [line.split()[0] for line in table[1:]] == ["alpha", "beta"]
    wide = ok(berth(berth_server, "get", "job", "-n", namespace, "-o", "wide")).splitlines()
    assert wide[0].split()[-3:] == ["CONTAINERS", "IMAGES", "SELECTOR"]
    assert (
        ok(berth(berth_server, "get", "jobs", "-n", namespace, "-l", "app=b", "-o", "name"))
        == "job.batch/beta\n"
    )
    doc = yaml.safe_load(ok(berth(berth_server, "get", "job/alpha", "-n", namespace, "-o", "yaml")))
    assert doc["kind"] == "Job" and doc["metadata"]["name"] == "alpha"
    assert "managedFields" not in doc["metadata"]
    listed = json.loads(ok(berth(berth_server, "get", "jobs", "-n", namespace, "-o", "json")))
    assert listed["kind"] == "List"
    assert [(i["kind"], i["metadata"]["name"]) for i in listed["items"]] == [
        ("Job", "alpha"),
        ("Job", "beta"),
    ]
    every = ok(berth(berth_server, "get", "jobs", "-A")).splitlines()
    assert every[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert [namespace, "alpha"] in [line.split()[:2] for line in every[1:]]


def test_get_nothing_and_get_missing(berth_server, namespace):
    empty = berth(berth_server, "get", "cm", "-n", namespace, "-l", "app=none")
    assert empty.returncode == 0 and empty.stdout == ""
    assert empty.stderr.strip() == f"No resources found in {namespace} namespace."
    missing = berth(berth_server, "get", "job", "nosuch", "-n", namespace)
    assert missing.returncode == 1
    assert missing.stderr.strip() == 'Error from server (NotFound): jobs.batch "nosuch" not found'
    unknown = berth(berth_server, "get", "gadgets")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == 'error: the server doesn\'t have a resource type "gadgets"'


def test_invalid_and_conflicting_objects_are_reported_like_kubectl(berth_server, namespace):
    bad = job_yaml("bad").replace("parallelism: 1", "parallelism: -1")
    result = berth(berth_server, "apply", "-n", namespace, "-f", "-", input=bad)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0] == 'The Job "bad" is invalid:'
    assert any(re.match(r"\* spec\.parallelism: Invalid value: -1: ", line) for line in lines)
    no_containers = job_yaml("empty").split("      containers:")[0] + "      containers: []\n"
    result = berth(berth_server, "apply", "-n", namespace, "-f", "-", input=no_containers)
    assert result.returncode == 1
    assert "* spec.template.spec.containers: Required value" in result.stderr
    # a good document beside a bad one is still applied, and the run exits 1
    mixed = CONFIG_MAP.format(name="fine") + "---\n" + bad
    result = berth(berth_server, "apply", "-n", namespace, "-f", "-", input=mixed)
    assert result.returncode == 1
    assert result.stdout == "configmap/fine created\n"


def test_describe_job_pod_and_configmap_with_events(berth_server, namespace):
    ok(berth(berth_server, "apply", "-n", namespace, "-f", "-", input=job_yaml("desc", "d")))
    job = berth_server.kubectl_json("-n", namespace, "get", "job", "desc")
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "desc.hand-made", "namespace": namespace},
        "involvedObject": {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "name": "desc",
            "namespace": namespace,
            "uid": job["metadata"]["uid"],
        },
        "reason": "HandMade",
        "message": "written by the CLI test",
        "type": "Normal",
        "source": {"component": "e2e"},
        "count": 1,
        "firstTimestamp": job["metadata"]["creationTimestamp"],
        "lastTimestamp": job["metadata"]["creationTimestamp"],
    }
    with berth_server.http() as http:
        created = http.post(f"/api/v1/namespaces/{namespace}/events", json=event)
        assert created.status_code == 201, created.text
    text = ok(berth(berth_server, "describe", "job", "desc", "-n", namespace))
    fields = dict(re.findall(r"^(\w[\w ]*):\s+(.*)$", text, re.M))
    assert fields["Name"] == "desc" and fields["Namespace"] == namespace
    assert fields["Parallelism"] == "1" and fields["Completions"] == "2"
    assert fields["Labels"] == "app=d"
    assert fields["Selector"] == f"batch.kubernetes.io/controller-uid={job['metadata']['uid']}"
    assert re.search(
        r"^Pods Statuses:\s+\d+ Active \(\d+ Ready\) / 0 Succeeded / 0 Failed$", text, re.M
    )
    assert re.search(r"^\s+Normal\s+HandMade\s+\S+\s+e2e\s+written by the CLI test$", text, re.M), (
        text
    )
    ok(
        berth(
            berth_server,
            "apply",
            "-n",
            namespace,
            "-f",
            "-",
            input=CONFIG_MAP.format(name="described"),
        )
    )
    text = ok(berth(berth_server, "describe", "cm", "described", "-n", namespace))
    assert "greeting: hello" in text and re.search(r"^Events:\s+<none>$", text, re.M)
    missing = berth(berth_server, "describe", "pod", "nosuch", "-n", namespace)
    assert missing.returncode == 1
    assert missing.stderr.strip() == 'Error from server (NotFound): pods "nosuch" not found'


def test_delete_waits_until_gone(berth_server, namespace):
    ok(berth(berth_server, "apply", "-n", namespace, "-f", "-", input=job_yaml("gone")))
    out = ok(
        berth(
            berth_server,
            "delete",
            "job",
            "gone",
            "-n",
            namespace,
            "--cascade",
            "foreground",
            "--timeout",
            "60",
        )
    )
    assert out == 'job.batch "gone" deleted\n'
    missing = berth_server.kubectl("-n", namespace, "get", "job", "gone", check=False)
    assert missing.returncode != 0 and "NotFound" in missing.stderr
    again = berth(berth_server, "delete", "job", "gone", "-n", namespace)
    assert again.returncode == 1
    assert again.stderr.strip() == 'Error from server (NotFound): jobs.batch "gone" not found'


def test_run_detach_submits_the_job_it_describes(berth_server, namespace):
    out = ok(
        berth(
            berth_server,
            "run",
            "-d",
            "-n",
            namespace,
            "--name",
            "train",
            "--cpu",
            "2",
            "--memory",
            "1Gi",
            "--gpus",
            "1",
            "--completions",
            "4",
            "--parallelism",
            "2",
            "--indexed",
            "--backoff-limit",
            "1",
            "-e",
            "EPOCHS=3",
            "--",
            "python3",
            "-c",
            "print('hi')",
        )
    )
    assert out == "job.batch/train created\n"
    job = berth_server.kubectl_json("-n", namespace, "get", "job", "train")
    spec = job["spec"]
    assert (
        spec["completions"],
        spec["parallelism"],
        spec["completionMode"],
        spec["backoffLimit"],
    ) == (4, 2, "Indexed", 1)
    pod_spec = spec["template"]["spec"]
    assert pod_spec["restartPolicy"] == "Never"
    (container,) = pod_spec["containers"]
    assert container["name"] == "main" and container["image"] == "berth/host"
    assert container["command"] == ["python3", "-c", "print('hi')"]
    assert {"name": "EPOCHS", "value": "3"} in container["env"]
    wanted = {"cpu": "2", "memory": "1Gi", "nvidia.com/gpu": "1"}
    assert container["resources"]["requests"] == wanted
    assert container["resources"]["limits"] == wanted


def test_run_detach_names_the_job_when_not_told(berth_server, namespace):
    out = ok(berth(berth_server, "run", "-d", "-n", namespace, "echo", "hello"))
    match = re.fullmatch(r"job\.batch/(run-[a-z0-9]{5}) created\n", out)
    assert match, out
    job = berth_server.kubectl_json("-n", namespace, "get", "job", match.group(1))
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["echo", "hello"]


def _sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_run_follows_explains_why_its_pod_waits_and_stops_on_ctrl_c(berth_server, namespace):
    """No node has 64 GPUs: the scheduler's reason shows in the progress; Ctrl-C stops
    following and leaves the Job in place."""
    env = {**os.environ, "BERTH_SERVER": berth_server.url, "PYTHONFAULTHANDLER": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "berth.cli.main",
            "run",
            "-n",
            namespace,
            "--name",
            "waits",
            "--gpus",
            "64",
            "--",
            "nvidia-smi",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=env,
        # Ctrl-C as at a terminal: a shell's background job (`make test &`) starts with SIGINT
        # ignored, and berth run, like any program, would keep ignoring it.
        preexec_fn=_sigint_default,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stderr), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not any("nodes are available" in line for line in lines):
            assert time.monotonic() < deadline, "no scheduling reason shown:\n" + "".join(lines)
            assert process.poll() is None, "".join(lines)
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            # Seen once, on a loaded machine: say where it is stuck (PYTHONFAULTHANDLER
            # writes every thread's stack to stderr on SIGABRT).
            process.send_signal(signal.SIGABRT)
            process.wait(timeout=10)
            reader.join(10)
            raise AssertionError("Ctrl-C ignored for 30 s:\n" + "".join(lines)) from None
        assert code == 130
    finally:
        if process.poll() is None:
            process.kill()
    reader.join(10)
    text = "".join(lines)
    assert lines[0] == "job.batch/waits created\n"
    assert re.search(
        r"^job\.batch/waits: 1 pending, 0 running, 0 succeeded, 0 failed "
        r"\(0/\d+ nodes are available: .+\)$",
        text,
        re.M,
    ), text
    assert "Stopped following. job.batch/waits goes on" in text
    assert process.stdout.read() == ""
    assert (
        berth_server.kubectl_json("-n", namespace, "get", "job", "waits")["metadata"]["name"]
        == "waits"
    )
