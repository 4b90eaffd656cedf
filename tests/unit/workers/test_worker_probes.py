"""Probes: parsing, single checks, thresholds, the watch loop, and in a running pod."""

import http.server
import socket
import threading
import time

import pytest

from berth.workers.node import cgroups, probes
from berth.workers.node.nodecontext import NodeContext
from berth.workers.node.runner import PodRunner
from tests.support import require_bwrap


def test_parse_fills_kubernetes_defaults_and_named_ports():
    container = {"ports": [{"name": "web", "containerPort": 8080}]}
    p = probes.parse({"httpGet": {"path": "/healthz", "port": "web"}}, container)
    assert p is not None
    assert (
        p.kind,
        p.port,
        p.path,
        p.period,
        p.timeout,
        p.failure_threshold,
        p.success_threshold,
    ) == ("http", 8080, "/healthz", 10.0, 1.0, 3, 1)
    assert probes.parse(None, container) is None
    exec_probe = probes.parse({"exec": {"command": ["true"]}}, {})
    assert exec_probe is not None and exec_probe.command == ("true",)
    grpc_probe = probes.parse({"grpc": {"port": 1}}, {})
    assert grpc_probe is not None and grpc_probe.kind == "grpc"


@pytest.fixture(scope="module")
def server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/ok" else 500)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()


def a_probe(kind, **kw):
    base = dict(initial_delay=0, period=0.01, timeout=1, success_threshold=1, failure_threshold=2)
    return probes.Probe(kind, **{**base, **kw})


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_single_checks(server):
    never = lambda argv, timeout: 1  # noqa: E731
    assert probes.check(
        a_probe("http", port=server, path="/ok"), pod_ip="127.0.0.1", exec_fn=never
    ) == (True, "")
    assert probes.check(
        a_probe("http", port=server, path="/bad"), pod_ip="127.0.0.1", exec_fn=never
    ) == (False, "HTTP probe failed with statuscode: 500")
    assert probes.check(a_probe("tcp", port=server), pod_ip="127.0.0.1", exec_fn=never)[0]
    ok, message = probes.check(
        a_probe("tcp", port=closed_port()), pod_ip="127.0.0.1", exec_fn=never
    )
    assert not ok and "dial tcp" in message
    assert probes.check(a_probe("exec", command=("x",)), pod_ip="", exec_fn=never) == (
        False,
        "command exited with 1",
    )
    assert not probes.check(a_probe("grpc"), pod_ip="", exec_fn=never)[0]


@pytest.mark.parametrize(
    "results, verdicts",
    [
        ([True], [True]),
        ([False], [None]),
        ([False, False], [None, False]),
        ([True, False, False, True], [True, None, False, True]),
    ],
)
def test_tracker_applies_thresholds(results, verdicts):
    tracker = probes.Tracker(a_probe("exec"))
    assert [tracker.record(r) for r in results] == verdicts


def test_watch_gates_on_startup_then_kills_on_liveness():
    calls, events = [], []

    def exec_fn(argv, timeout):
        calls.append(argv[0])
        return {"startup": 0, "ready": 0, "live": 1}[argv[0]]

    hooks = probes.Hooks(
        exec_fn=exec_fn,
        set_started=lambda: events.append("started"),
        set_ready=lambda v: events.append(("ready", v)),
        kill=lambda m: events.append(("kill", m)),
        running=lambda: True,
        sleep=lambda s: False,
    )
    probes.watch(
        a_probe("exec", command=("startup",)),
        a_probe("exec", command=("live",)),
        a_probe("exec", command=("ready",)),
        pod_ip="",
        hooks=hooks,
    )
    assert calls[0] == "startup" and events[0] == "started"
    assert ("ready", True) in events
    assert events[-1] == ("kill", "Liveness probe failed: command exited with 1")


def node(tmp_path, bwrap=None):
    if bwrap == "bwrap":
        bwrap = require_bwrap()
    return NodeContext(
        node_name="n",
        host_ip="127.0.0.1",
        log_root=tmp_path / "logs",
        pod_root=tmp_path / "pods",
        bwrap=bwrap,
        backoff_base=0.05,
        backoff_cap=0.1,
        poll=0.02,
        hierarchy=cgroups.detect(),
    )


def run_until(runner, done, timeout=15):
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        time.sleep(0.02)
    runner.stop(grace=1)
    thread.join(10)
    return done()


@pytest.mark.parametrize(
    "bwrap", [pytest.param(None, id="plain"), pytest.param("bwrap", id="bwrap")]
)
def test_readiness_follows_an_exec_probe_inside_the_container(tmp_path, bwrap):
    flag = "/tmp/ready" if bwrap else str(tmp_path / "ready")
    container = {
        "name": "c",
        "image": "x",
        "command": ["/bin/sh", "-c", f"sleep 0.3; touch {flag}; sleep 30"],
        "readinessProbe": {"exec": {"command": ["test", "-f", flag]}, "periodSeconds": 0.05},
    }
    pod = {
        "metadata": {"name": "p", "namespace": "ns", "uid": "u"},
        "spec": {"restartPolicy": "Never", "containers": [container]},
    }
    reports = []
    runner = PodRunner(pod, {}, node(tmp_path, bwrap), gpu_ids=[], report=reports.append)
    became_ready = run_until(
        runner, lambda: any(r["containerStatuses"][0]["ready"] for r in reports)
    )
    assert became_ready
    running = [r for r in reports if "running" in r["containerStatuses"][0]["state"]]
    assert running[0]["containerStatuses"][0]["ready"] is False  # not ready before the probe
    ready = next(r for r in reports if r["containerStatuses"][0]["ready"])
    assert {c["type"]: c["status"] for c in ready["conditions"]}["Ready"] == "True"


def test_a_failing_liveness_probe_restarts_the_container(tmp_path):
    container = {
        "name": "c",
        "image": "x",
        "command": ["/bin/sh", "-c", "sleep 30"],
        "livenessProbe": {
            "exec": {"command": ["false"]},
            "periodSeconds": 0.05,
            "failureThreshold": 2,
        },
    }
    pod = {
        "metadata": {"name": "p", "namespace": "ns", "uid": "u"},
        "spec": {
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 1,
            "containers": [container],
        },
    }
    reports = []
    runner = PodRunner(pod, {}, node(tmp_path), gpu_ids=[], report=reports.append)
    assert run_until(
        runner, lambda: any(r["containerStatuses"][0]["restartCount"] >= 1 for r in reports)
    )
    last = next(r for r in reports if r["containerStatuses"][0]["lastState"])
    assert last["containerStatuses"][0]["lastState"]["terminated"]["exitCode"] == 143
