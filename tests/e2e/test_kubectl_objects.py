"""kubectl against berth up (control plane only): create, apply, get, describe, patch, delete,
wait, watch, and imperative configmap/secret creation — on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import subprocess
import time

import yaml

JOB = """
apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
  labels: {{app: {app}}}
spec:
  completions: 2
  parallelism: 1
  template:
    metadata:
      labels: {{app: {app}}}
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox
        command: ["sh", "-c", "echo hi"]
"""


def job_yaml(name, app="demo"):
    return JOB.format(name=name, app=app)


def test_create_get_table_yaml_json_and_selectors(berth_server, namespace):
    k = berth_server.kubectl
    out = k("-n", namespace, "create", "-f", "-", input=job_yaml("pi", "alpha")).stdout
    assert "job.batch/pi created" in out
    k("-n", namespace, "create", "-f", "-", input=job_yaml("other", "beta"))
    table = k("-n", namespace, "get", "jobs").stdout.splitlines()
    assert table[0].split() == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert [line.split()[0] for line in table[1:]] == ["other", "pi"]
    wide = k("-n", namespace, "get", "jobs", "-o", "wide").stdout.splitlines()[0].split()
    assert wide[-3:] == ["CONTAINERS", "IMAGES", "SELECTOR"]
    doc = yaml.safe_load(k("-n", namespace, "get", "job", "pi", "-o", "yaml").stdout)
    assert doc["spec"]["backoffLimit"] == 6
    assert doc["spec"]["completionMode"] == "NonIndexed"
    uid = doc["metadata"]["uid"]
    assert doc["spec"]["selector"]["matchLabels"] == {"batch.kubernetes.io/controller-uid": uid}
    assert doc["spec"]["template"]["metadata"]["labels"]["job-name"] == "pi"
    listed = berth_server.kubectl_json("-n", namespace, "get", "jobs", "-l", "app=alpha")
    assert [i["metadata"]["name"] for i in listed["items"]] == ["pi"]
    listed = berth_server.kubectl_json("-n", namespace, "get", "jobs", "-l", "app notin (alpha)")
    assert [i["metadata"]["name"] for i in listed["items"]] == ["other"]
    names = k(
        "-n", namespace, "get", "jobs", "--field-selector", "metadata.name=other", "-o", "name"
    ).stdout.split()
    assert names == ["job.batch/other"]


def test_apply_twice_then_change(berth_server, namespace):
    k = berth_server.kubectl
    # Suspended, so that once the job controller has marked it Suspended nothing else writes
    # to it: a running Job's status writes would change its resourceVersion between reads.
    manifest = job_yaml("ap").replace("  parallelism: 1\n", "  parallelism: 1\n  suspend: true\n")
    assert "suspend: true" in manifest
    assert "job.batch/ap created" in k("-n", namespace, "apply", "-f", "-", input=manifest).stdout
    k("-n", namespace, "wait", "--for=condition=Suspended", "job/ap", "--timeout=30s")
    rv1 = berth_server.kubectl_json("-n", namespace, "get", "job", "ap")["metadata"][
        "resourceVersion"
    ]
    assert "job.batch/ap unchanged" in k("-n", namespace, "apply", "-f", "-", input=manifest).stdout
    rv2 = berth_server.kubectl_json("-n", namespace, "get", "job", "ap")["metadata"][
        "resourceVersion"
    ]
    assert rv1 == rv2
    changed = manifest.replace("parallelism: 1", "parallelism: 2")
    assert "job.batch/ap configured" in k("-n", namespace, "apply", "-f", "-", input=changed).stdout
    job = berth_server.kubectl_json("-n", namespace, "get", "job", "ap")
    assert job["spec"]["parallelism"] == 2
    assert job["metadata"]["generation"] == 2
    assert "kubectl.kubernetes.io/last-applied-configuration" in job["metadata"]["annotations"]


def test_server_side_apply_creates_then_updates(berth_server, namespace):
    k = berth_server.kubectl
    manifest = job_yaml("ssa")
    assert (
        "serverside-applied"
        in k("-n", namespace, "apply", "--server-side", "-f", "-", input=manifest).stdout
    )
    changed = manifest.replace("parallelism: 1", "parallelism: 2")
    k("-n", namespace, "apply", "--server-side", "-f", "-", input=changed)
    job = berth_server.kubectl_json("-n", namespace, "get", "job", "ssa", "--show-managed-fields")
    assert job["spec"]["parallelism"] == 2
    managers = {m["manager"] for m in job["metadata"].get("managedFields", [])}
    assert "kubectl" in managers


def test_patch_with_all_three_types(berth_server, namespace):
    k = berth_server.kubectl
    k("-n", namespace, "create", "-f", "-", input=job_yaml("pt"))
    k("-n", namespace, "patch", "job", "pt", "-p", '{"spec":{"parallelism":2}}')
    k(
        "-n",
        namespace,
        "patch",
        "job",
        "pt",
        "--type=merge",
        "-p",
        '{"metadata":{"labels":{"tier":"gold"}}}',
    )
    k(
        "-n",
        namespace,
        "patch",
        "job",
        "pt",
        "--type=json",
        "-p",
        '[{"op":"replace","path":"/spec/parallelism","value":3}]',
    )
    job = berth_server.kubectl_json("-n", namespace, "get", "job", "pt")
    assert job["spec"]["parallelism"] == 3
    assert job["metadata"]["labels"]["tier"] == "gold"
    before = job["metadata"]["resourceVersion"]
    k("-n", namespace, "patch", "job", "pt", "--type=merge", "-p", '{"spec":{"parallelism":3}}')
    after = berth_server.kubectl_json("-n", namespace, "get", "job", "pt")["metadata"][
        "resourceVersion"
    ]
    assert before == after  # a no-op patch keeps the resourceVersion
    bad = k(
        "-n",
        namespace,
        "patch",
        "job",
        "pt",
        "--type=merge",
        "-p",
        '{"spec":{"template":{"spec":{"restartPolicy":"Always"}}}}',
        check=False,
    )
    assert bad.returncode != 0 and "Invalid" in bad.stderr or "invalid" in bad.stderr


def test_invalid_and_unknown_fields_are_reported_by_field(berth_server, namespace):
    k = berth_server.kubectl
    bad = job_yaml("bad").replace("restartPolicy: Never", "restartPolicy: Always")
    result = k("-n", namespace, "create", "-f", "-", input=bad, check=False)
    assert result.returncode != 0
    assert "spec.template.spec.restartPolicy" in result.stderr
    unknown = job_yaml("unk").replace("completions: 2", "completions: 2\n  foo: bar")
    result = k("-n", namespace, "create", "-f", "-", input=unknown, check=False)
    assert result.returncode != 0
    assert 'unknown field "spec.foo"' in result.stderr
    result = k("-n", namespace, "create", "--validate=false", "-f", "-", input=unknown)
    assert "job.batch/unk created" in result.stdout
    assert "foo" not in berth_server.kubectl_json("-n", namespace, "get", "job", "unk")["spec"]


def test_describe_shows_the_job(berth_server, namespace):
    k = berth_server.kubectl
    k("-n", namespace, "create", "-f", "-", input=job_yaml("desc"))
    out = k("-n", namespace, "describe", "job", "desc").stdout
    assert "Name:" in out and "desc" in out
    assert "Completions:" in out and "2" in out
    assert "Pod Template:" in out


def owned_configmap(owner, name, block=False):
    ref = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": block,
    }
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "ownerReferences": [ref]},
            "data": {"k": "v"},
        }
    )


def wait_until(predicate, timeout=20.0, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def test_delete_with_each_propagation_policy(berth_server, namespace):
    k = berth_server.kubectl

    def exists(kind, name):
        return k("-n", namespace, "get", kind, name, check=False).returncode == 0

    for policy in ("background", "foreground", "orphan"):
        job_name = f"owner-{policy}"
        k("-n", namespace, "create", "-f", "-", input=job_yaml(job_name))
        owner = berth_server.kubectl_json("-n", namespace, "get", "job", job_name)
        k(
            "-n",
            namespace,
            "create",
            "-f",
            "-",
            input=owned_configmap(owner, f"dep-{policy}", block=policy == "foreground"),
        )
        k("-n", namespace, "delete", "job", job_name, f"--cascade={policy}", "--timeout=60s")
        assert not exists("job", job_name)
        if policy == "orphan":
            cm = berth_server.kubectl_json("-n", namespace, "get", "configmap", f"dep-{policy}")
            assert "ownerReferences" not in cm["metadata"]
        else:
            assert wait_until(lambda policy=policy: not exists("configmap", f"dep-{policy}"))


def test_wait_for_a_condition_and_for_delete(berth_server, namespace):
    k = berth_server.kubectl
    suspended = job_yaml("w").replace("  completions: 2", "  suspend: true\n  completions: 2")
    k("-n", namespace, "create", "-f", "-", input=suspended)
    out = k("-n", namespace, "wait", "--for=condition=suspended", "job/w", "--timeout=60s").stdout
    assert "job.batch/w condition met" in out
    job = berth_server.kubectl_json("-n", namespace, "get", "job", "w")
    suspended_condition = [c for c in job["status"]["conditions"] if c["type"] == "Suspended"]
    assert suspended_condition[0]["reason"] == "JobSuspended"
    k("-n", namespace, "delete", "job", "w", "--wait=false")
    k("-n", namespace, "wait", "--for=delete", "job/w", "--timeout=30s")


def test_watch_prints_new_objects(berth_server, namespace):
    watcher = subprocess.Popen(
        [
            "kubectl",
            "--kubeconfig",
            str(berth_server.kubeconfig),
            "-n",
            namespace,
            "get",
            "jobs",
            "-w",
            "--request-timeout=20s",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.5)
        berth_server.kubectl("-n", namespace, "create", "-f", "-", input=job_yaml("watched"))
        deadline = time.monotonic() + 20
        seen = ""
        while time.monotonic() < deadline and "watched" not in seen:
            line = watcher.stdout.readline()
            if not line:
                break
            seen += line
        assert "watched" in seen
    finally:
        watcher.kill()
        watcher.communicate()


def test_configmaps_and_secrets_from_literals_and_files(berth_server, namespace, tmp_path):
    k = berth_server.kubectl
    (tmp_path / "cm").mkdir()
    (tmp_path / "cm" / "city").write_text("Ann Arbor")
    (tmp_path / "cm" / "state").write_text("Michigan")
    k(
        "-n",
        namespace,
        "create",
        "configmap",
        "literal-example",
        "--from-literal=city=Ann Arbor",
        "--from-literal=state=Michigan",
    )
    k(
        "-n",
        namespace,
        "create",
        "configmap",
        "file-example",
        f"--from-file={tmp_path / 'cm' / 'city'}",
        f"--from-file={tmp_path / 'cm' / 'state'}",
    )
    k("-n", namespace, "create", "configmap", "dir-example", f"--from-file={tmp_path / 'cm'}")
    for name in ("literal-example", "file-example", "dir-example"):
        cm = berth_server.kubectl_json("-n", namespace, "get", "configmap", name)
        assert cm["data"] == {"city": "Ann Arbor", "state": "Michigan"}
    k(
        "-n",
        namespace,
        "create",
        "secret",
        "generic",
        "literal-secret",
        "--from-literal=username=example",
        "--from-literal=password=mypassword",
    )
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "username").write_text("example")
    (tmp_path / "secret" / "password").write_text("mypassword")
    k(
        "-n",
        namespace,
        "create",
        "secret",
        "generic",
        "dir-secret",
        f"--from-file={tmp_path / 'secret'}",
    )
    for name in ("literal-secret", "dir-secret"):
        secret = berth_server.kubectl_json("-n", namespace, "get", "secret", name)
        decoded = {key: base64.b64decode(v).decode() for key, v in secret["data"].items()}
        assert decoded == {"username": "example", "password": "mypassword"}
        assert secret["type"] == "Opaque"
    table = k("-n", namespace, "get", "secrets").stdout.splitlines()
    assert table[0].split() == ["NAME", "TYPE", "DATA", "AGE"]
    db_bytes = b"".join(p.read_bytes() for p in berth_server.data_dir.glob("berth.db*"))
    assert b"mypassword" not in db_bytes and b"bXlwYXNzd29yZA" not in db_bytes
