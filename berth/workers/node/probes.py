"""Container probes: startup, liveness, readiness, as the kubelet runs them.

``httpGet`` and ``tcpSocket`` reach the container on the pod's IP — the node's own, since
sandboxes share the host network; ``exec`` runs the command inside the container's
namespaces (``nsenter`` into the sandbox) with the container's environment. ``grpc`` probes
are not supported and always fail with a message saying so.

``check`` is one probe attempt; ``Tracker`` turns attempts into the probe's result with
``successThreshold``/``failureThreshold``; ``watch`` schedules them for one container attempt.
"""

from __future__ import annotations

import http.client
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DEFAULTS = {
    "initialDelaySeconds": 0,
    "periodSeconds": 10,
    "timeoutSeconds": 1,
    "successThreshold": 1,
    "failureThreshold": 3,
}


@dataclass(frozen=True)
class Probe:
    kind: str  # "http" | "tcp" | "exec" | "grpc"
    initial_delay: float
    period: float
    timeout: float
    success_threshold: int
    failure_threshold: int
    port: int | None = None
    path: str = "/"
    scheme: str = "HTTP"
    host: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    command: tuple[str, ...] = ()


def _port(value, container: dict) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    for port in container.get("ports") or []:
        if port.get("name") == value:
            return int(port["containerPort"])
    return None


def parse(spec: dict | None, container: dict) -> Probe | None:
    """A probe of the container spec, or None when it has none."""
    if not spec:
        return None
    timing = {key: spec.get(key, default) for key, default in DEFAULTS.items()}
    common: dict[str, Any] = dict(
        initial_delay=float(timing["initialDelaySeconds"]),
        period=float(timing["periodSeconds"]),
        timeout=float(timing["timeoutSeconds"]),
        success_threshold=int(timing["successThreshold"]),
        failure_threshold=int(timing["failureThreshold"]),
    )
    if "httpGet" in spec:
        get = spec["httpGet"] or {}
        return Probe(
            "http",
            port=_port(get.get("port"), container),
            path=get.get("path") or "/",
            scheme=(get.get("scheme") or "HTTP").upper(),
            host=get.get("host"),
            headers=tuple((h["name"], h["value"]) for h in get.get("httpHeaders") or []),
            **common,
        )
    if "tcpSocket" in spec:
        tcp = spec["tcpSocket"] or {}
        return Probe("tcp", port=_port(tcp.get("port"), container), host=tcp.get("host"), **common)
    if "exec" in spec:
        return Probe("exec", command=tuple((spec["exec"] or {}).get("command") or []), **common)
    return Probe("grpc", **common)


ExecFn = Callable[[list[str], float], int]


def check(probe: Probe, *, pod_ip: str, exec_fn: ExecFn) -> tuple[bool, str]:
    """One attempt: ``(success, failure message)``."""
    host = probe.host or pod_ip
    if probe.kind == "http":
        return _http(probe, host)
    if probe.kind == "tcp":
        try:
            with socket.create_connection((host, probe.port or 0), timeout=probe.timeout):
                return True, ""
        except OSError as err:
            return False, f"dial tcp {host}:{probe.port}: {err.strerror or err}"
    if probe.kind == "exec":
        try:
            code = exec_fn(list(probe.command), probe.timeout)
        except subprocess.TimeoutExpired:
            return False, f"command timed out after {probe.timeout:g}s"
        except OSError as err:
            return False, str(err)
        return code == 0, "" if code == 0 else f"command exited with {code}"
    return False, "grpc probes are not supported by Berth"


def _http(probe: Probe, host: str) -> tuple[bool, str]:
    kind = http.client.HTTPSConnection if probe.scheme == "HTTPS" else http.client.HTTPConnection
    conn = kind(host, probe.port or 80, timeout=probe.timeout)
    try:
        conn.request("GET", probe.path, headers=dict(probe.headers))
        status = conn.getresponse().status
    except (OSError, http.client.HTTPException) as err:
        return False, f'Get "{probe.scheme.lower()}://{host}:{probe.port}{probe.path}": {err}'
    finally:
        conn.close()
    if 200 <= status < 400:
        return True, ""
    return False, f"HTTP probe failed with statuscode: {status}"


@dataclass
class Tracker:
    """Consecutive results -> the probe's verdict, with the thresholds."""

    probe: Probe
    result: bool | None = None
    successes: int = 0
    failures: int = 0

    def record(self, ok: bool) -> bool | None:
        """The new verdict when this attempt changes it, else None."""
        if ok:
            self.successes, self.failures = self.successes + 1, 0
            if self.result is not True and self.successes >= self.probe.success_threshold:
                self.result = True
                return True
        else:
            self.failures, self.successes = self.failures + 1, 0
            if self.result is not False and self.failures >= self.probe.failure_threshold:
                self.result = False
                return False
        return None


@dataclass
class Hooks:
    """What a watch may do to its container."""

    exec_fn: ExecFn
    set_started: Callable[[], None]
    set_ready: Callable[[bool], None]
    kill: Callable[[str], None]  # message: why the container is restarted
    running: Callable[[], bool]
    sleep: Callable[[float], bool] = field(default=lambda s: time.sleep(s) or False)


def watch(
    startup: Probe | None,
    liveness: Probe | None,
    readiness: Probe | None,
    *,
    pod_ip: str,
    hooks: Hooks,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Run the container's probes until it stops running (or a probe kills it)."""
    began = clock()
    probes = {
        name: p
        for name, p in (("startup", startup), ("liveness", liveness), ("readiness", readiness))
        if p
    }
    due = {name: began + p.initial_delay for name, p in probes.items()}
    trackers = {name: Tracker(p) for name, p in probes.items()}
    started = startup is None
    while hooks.running():
        now = clock()
        active = ["startup"] if not started else [n for n in ("liveness", "readiness") if n in due]
        if not active:
            return
        for name in active:
            if now < due[name]:
                continue
            probe = probes[name]
            due[name] = now + probe.period
            ok, message = check(probe, pod_ip=pod_ip, exec_fn=hooks.exec_fn)
            verdict = trackers[name].record(ok)
            if name == "startup" and verdict is True:
                started = True
                hooks.set_started()
                for other in ("liveness", "readiness"):
                    if other in due:
                        due[other] = max(due[other], clock())
            elif name in ("startup", "liveness") and verdict is False:
                hooks.kill(f"{name.capitalize()} probe failed: {message}")
                return
            elif name == "readiness" and verdict is not None:
                hooks.set_ready(verdict)
        wake = min(
            due[n]
            for n in (
                ["startup"] if not started else [n for n in ("liveness", "readiness") if n in due]
            )
        )
        if hooks.sleep(max(min(wake - clock(), 0.5), 0.01)):
            return
