"""Helpers of the Job end-to-end tests (``test_jobs_*.py``): a ``berth up`` WITH workers (pods
really run on Ray), Job manifests, and what Kubernetes shows of them through the real kubectl.

Not a conftest: each test module imports what it uses and builds its own module-scoped server
(one ``berth up`` per module, each test in its own namespace).
"""

from __future__ import annotations

import ipaddress
import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from kubernetes import client as k8s
from kubernetes import config, watch

from tests.e2e.conftest import BerthServer, start_berth, stop_berth_and_ray
from tests.support import make_pg_schema


# -- servers ----------------------------------------------------------------------------------
@contextmanager
def berth_up(
    tmp: Path, database_url: str | None = None, env: dict | None = None, port: int | None = None
) -> Iterator[BerthServer]:
    """``berth up`` with workers; on exit a clean stop (SIGINT), which stops its embedded Ray.
    Whatever of that Ray is still running afterwards (a stop that had to SIGKILL) is stopped
    by its session, never with ``ray stop``."""
    server = start_berth(tmp, database_url, workers=True, extra_env=env, port=port)
    try:
        yield server
    finally:
        stop_berth_and_ray(server.process, server.data_dir, signal.SIGINT)


@contextmanager
def database(flavour: str) -> Iterator[str | None]:
    """The database URL of a flavour: None for SQLite (a file in the data directory) or a
    fresh PostgreSQL schema, dropped afterwards."""
    if flavour == "sqlite":
        yield None
        return
    url, drop = make_pg_schema()
    try:
        yield url
    finally:
        drop()


def new_namespace(server: BerthServer) -> str:
    name = f"jobs-{uuid.uuid4().hex[:8]}"
    server.kubectl("create", "namespace", name)
    return name


# -- manifests --------------------------------------------------------------------------------
def job(
    name: str,
    script: str,
    *,
    restart: str = "Never",
    resources: dict | None = None,
    mounts: list | None = None,
    env: list | None = None,
    pod: dict | None = None,
    **spec,
) -> dict:
    """A batch/v1 Job whose one container ``c`` runs ``sh -c script``; ``spec`` keys are the
    Job's (camelCase), ``pod`` extra keys of the pod template's spec."""
    container = {"name": "c", "image": "busybox", "command": ["/bin/sh", "-c", script]}
    if resources:
        container["resources"] = resources
    if mounts:
        container["volumeMounts"] = mounts
    if env:
        container["env"] = env
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            **spec,
            "template": {
                "spec": {
                    "restartPolicy": restart,
                    "terminationGracePeriodSeconds": 2,
                    "containers": [container],
                    **(pod or {}),
                }
            },
        },
    }


def apply(server: BerthServer, namespace: str, *objects: dict) -> str:
    manifest = yaml.safe_dump_all(objects)
    return server.kubectl("-n", namespace, "apply", "-f", "-", input=manifest).stdout


# -- what kubectl shows -----------------------------------------------------------------------
def wait_job(
    server: BerthServer, namespace: str, name: str, condition: str = "complete", timeout: int = 120
) -> None:
    """``kubectl wait --for=condition=<condition> job/<name>``; on a timeout the failure
    shows the Job and its pods."""
    result = server.kubectl(
        "-n",
        namespace,
        "wait",
        f"--for=condition={condition}",
        f"job/{name}",
        f"--timeout={timeout}s",
        check=False,
        timeout=timeout + 30,
    )
    if result.returncode != 0:
        state = server.kubectl("-n", namespace, "get", "job,pods", "-o", "wide", check=False).stdout
        raise AssertionError(
            f"job {name} not {condition} within {timeout}s: "
            f"{result.stderr}\n{state}\n{server.log()[-3000:]}"
        )


def get_job(server: BerthServer, namespace: str, name: str) -> dict:
    return server.kubectl_json("-n", namespace, "get", "job", name)


def pods_of(server: BerthServer, namespace: str, job_name: str) -> list[dict]:
    listed = server.kubectl_json("-n", namespace, "get", "pods", "-l", f"job-name={job_name}")
    return sorted(listed["items"], key=lambda p: p["metadata"]["creationTimestamp"])


def condition(obj: dict, kind: str) -> dict | None:
    return next(
        (c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == kind), None
    )


def table(server: BerthServer, *args: str) -> list[dict[str, str]]:
    """Rows of a ``kubectl get`` table, as {column: cell}. kubectl aligns every cell under its
    header, so a cell may hold spaces ("3/1 of 3"); headers must be single words."""
    lines = server.kubectl(*args).stdout.splitlines()
    starts = [m.start() for m in re.finditer(r"\S+", lines[0])]
    names = lines[0].split()
    bounds = list(zip(starts, starts[1:] + [None], strict=True))
    return [
        {name: line[a:b].strip() for name, (a, b) in zip(names, bounds, strict=True)}
        for line in lines[1:]
    ]


def events(describe_output: str) -> list[dict[str, str]]:
    """The Events table at the end of ``kubectl describe``: Type, Reason, Age, From, Message."""
    lines = describe_output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Events:"))
    rows = []
    for line in lines[start + 3 :]:  # "Events:", the header, the dashes
        if not line.strip():
            break
        kind, reason, age, source, message = line.split(None, 4)
        rows.append(
            {"Type": kind, "Reason": reason, "Age": age, "From": source, "Message": message}
        )
    return rows


def terminated(pod: dict, container: str = "c") -> dict:
    status = next(s for s in pod["status"]["containerStatuses"] if s["name"] == container)
    return status["state"]["terminated"]


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """The most half-open intervals [start, end) that hold at one instant."""
    moments = sorted([(end, -1) for _, end in intervals] + [(start, 1) for start, _ in intervals])
    most = running = 0
    for _, step in moments:  # at a tie an end (-1) sorts before a start: [a,b) and [b,c) meet
        running += step
        most = max(most, running)
    return most


def wait_for(check: Callable, timeout: float = 60, interval: float = 0.2, what: str = ""):
    """Poll until ``check()`` is truthy; that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or check}")
        time.sleep(interval)


# -- the kubernetes client --------------------------------------------------------------------
def api_client(server: BerthServer) -> k8s.ApiClient:
    return config.new_client_from_config(config_file=str(server.kubeconfig))


class PodWatch:
    """Every state of every pod of a namespace, as a watch delivers it (the kubernetes
    client's), so a state that lasts a moment (a pod failed, then deleted) is still seen."""

    def __init__(self, server: BerthServer, namespace: str):
        self.namespace = namespace
        self.states: list[tuple[str, dict]] = []  # (event type, pod as on the wire)
        self._api = api_client(server)
        self._core = k8s.CoreV1Api(self._api)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True, name="pod-watch")
        self._thread.start()

    def _run(self) -> None:
        version = None
        while not self._stop.is_set():
            stream = watch.Watch()
            kwargs = {"timeout_seconds": 1}
            if version:
                kwargs["resource_version"] = version
            for event in stream.stream(self._core.list_namespaced_pod, self.namespace, **kwargs):
                with self._lock:
                    self.states.append((event["type"], event["raw_object"]))
            version = stream.resource_version or version

    def of(self, name: str) -> list[dict]:
        with self._lock:
            return [pod for _, pod in self.states if pod["metadata"]["name"] == name]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._api.close()


# -- processes --------------------------------------------------------------------------------
def live_processes_mentioning(text: str) -> list[str]:
    """Command lines of live (not zombie) processes whose command line contains ``text``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                state = handle.read().rsplit(")", 1)[1].split()[0]
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if state != "Z" and text in cmdline:
            found.append(f"{entry}: {cmdline.strip()}")
    return found


def listening_addresses(pids: set[int]) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The local addresses of the TCP sockets ``pids`` listen on (from /proc, no tools)."""
    inodes = set()
    for pid in pids:
        try:
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            continue
        inodes |= {link[len("socket:[") : -1] for link in links if link.startswith("socket:[")}
    found = []
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A" or fields[9] not in inodes:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(fields[1].split(":")[0])  # 32-bit words, each little-endian
            found.append(
                ipaddress.ip_address(b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4)))
            )
    return found


def is_loopback(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)
