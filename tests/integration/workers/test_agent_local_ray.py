"""The embedded Ray head: loopback only, token auth, stopped by its own session alone."""

import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from berth.workers.control import local_ray

pytestmark = pytest.mark.integration


def listeners() -> list[tuple[str, int]]:
    """(local address, pid) of every listening TCP socket, from ``ss -ltnp``."""
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        fields = line.split()
        for pid in re.findall(r"pid=(\d+)", line):
            found.append((fields[3], int(pid)))
    return found


def loopback(local: str) -> bool:
    host = local.rsplit(":", 1)[0].strip("[]").split("%")[0]
    if host in ("*", "0.0.0.0", "::"):
        return False
    ip = ipaddress.ip_address(host)
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


@pytest.mark.parametrize(
    "local, expected",
    [
        ("127.0.0.1:80", True),
        ("[::1]:80", True),
        ("[::ffff:127.0.0.1]:80", True),
        ("0.0.0.0:80", False),
        ("*:80", False),
        ("[::]:80", False),
        ("10.1.2.3:80", False),
    ],
)
def test_loopback_check(local, expected):
    assert loopback(local) is expected


@pytest.mark.skipif(shutil.which("ss") is None, reason="ss (iproute2) not installed")
def test_local_ray_listens_on_loopback_only_and_needs_its_token(tmp_path):
    temp = tmp_path / "r"
    address = local_ray.start_local_ray(temp, num_cpus=1, labels={"role": "embedded"})
    try:
        assert address.startswith("127.0.0.1:")
        assert local_ray.start_local_ray(temp) == address  # found, not started twice
        sid = json.loads((temp / local_ray.STATE_FILE).read_text())["sid"]
        ours = set(local_ray.session_members(sid))
        mine = [(addr, pid) for addr, pid in listeners() if pid in ours]
        assert mine, "the head should listen somewhere"
        exposed = [(a, p) for a, p in mine if not loopback(a)]
        assert exposed == []

        script = (
            "import ray\n"
            f"ray.init(address={address!r}, logging_level='WARNING')\n"
            "print(ray.get(ray.remote(lambda: 41 + 1).remote()))\n"
            "print(ray.nodes()[0]['Labels'].get('role'))\n"
        )
        clean = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
        run = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            env={**clean, **local_ray.driver_env(temp)},
            timeout=120,
        )
        assert run.stdout.split() == ["42", "embedded"], run.stderr[-2000:]
    finally:
        local_ray.stop_local_ray(temp)
    assert local_ray.session_members(sid) == []


def test_a_start_that_gives_up_leaves_none_of_its_session_running(tmp_path, monkeypatch):
    """``ray start`` that times out (a swamped machine) has already started the GCS and
    helpers of its session; they are stopped before the error is raised."""
    started: list[subprocess.Popen] = []
    real_popen = subprocess.Popen

    class GivesUpOnceTheGcsRuns(real_popen):  # type: ignore[misc, valid-type]
        def communicate(self, input=None, timeout=None):
            if timeout is None:  # the kill's own wait
                return super().communicate(input)
            started.append(self)
            deadline = time.monotonic() + 60
            while not any(
                "gcs_server" in local_ray._cmdline(pid)
                for pid in local_ray.session_members(self.pid)
            ):
                assert time.monotonic() < deadline, "the GCS never started"
                time.sleep(0.05)
            raise subprocess.TimeoutExpired(self.args, timeout)

    monkeypatch.setattr(local_ray.subprocess, "Popen", GivesUpOnceTheGcsRuns)
    with pytest.raises(RuntimeError, match="ray start failed"):
        local_ray.start_local_ray(tmp_path / "r", num_cpus=1)
    (proc,) = started
    assert local_ray.session_members(proc.pid) == []
    assert not (tmp_path / "r" / local_ray.STATE_FILE).exists()
