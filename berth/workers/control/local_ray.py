"""A private Ray head on loopback for the embedded mode (``berth up``) and for tests.

Started with ``ray start --head`` in its own session, so it outlives the driver that started
it (pods keep running while the control plane restarts) and can be stopped by that session
alone — never ``ray stop``, which kills every Ray on the host.

Ray listens on every interface by default; ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` in its
environment keeps every listener on 127.0.0.1 (found by measurement, see machine-facts). Ray
2.60 heads require a token: one is made under the temp dir and named by
``RAY_AUTH_TOKEN_PATH``; ``driver_env`` gives a driver the variables it needs to connect.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from ray._private import ray_constants

# A compiled module: pyright sees none of its names.
from ray._raylet import AuthenticationTokenLoader, Config  # pyright: ignore[reportAttributeAccessIssue]

STATE_FILE = "berth-ray.json"
TOKEN_FILE = "auth_token"
_START_TIMEOUT_S = 120
_MAX_TEMP_LEN = 36
_RAYLET = "/raylet/raylet"
_GCS = "/gcs/gcs_server"


def driver_env(temp_dir: str | Path) -> dict[str, str]:
    """Environment variables a process needs to reach the Ray head under ``temp_dir``."""
    return {
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN_PATH": str(Path(temp_dir).resolve() / TOKEN_FILE),
    }


def connect_env(temp_dir: str | Path) -> dict[str, str | None]:
    """Make this process a driver able to reach the head under ``temp_dir``: put
    ``driver_env`` in ``os.environ`` (Ray reads its settings from there, and passes them to
    the processes it starts) and refresh what Ray has cached of it. Call before ``ray.init``;
    returns the previous values so a caller may restore them."""
    wanted = driver_env(temp_dir)
    previous = {key: os.environ.get(key) for key in wanted}
    os.environ.update(wanted)
    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()
    # Ray read RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER when it was imported, maybe before this
    # call; without this it rewrites 127.0.0.1 to the host's address and cannot reach the
    # loopback-only head.
    ray_constants.ENABLE_RAY_CLUSTER = False
    return previous


def _state(temp_dir: Path) -> dict | None:
    try:
        return json.loads((temp_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None


def _session_alive(sid: int) -> bool:
    return bool(session_members(sid))


def session_members(sid: int) -> list[int]:
    """Processes of session ``sid`` (field 6 of ``/proc/<pid>/stat``), zombies excluded."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) == sid:
            found.append(int(entry))
    return found


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def short_path(temp: Path) -> Path:
    """``temp`` or a short link to it: Ray puts unix sockets ~70 bytes deep under its temp
    dir and a socket path may not exceed 107 bytes."""
    if len(str(temp)) <= _MAX_TEMP_LEN:
        return temp
    link = Path("/tmp") / f"berth-ray-{hashlib.sha1(str(temp).encode()).hexdigest()[:10]}"
    if not (link.is_symlink() and link.resolve() == temp):
        link.unlink(missing_ok=True)
        link.symlink_to(temp, target_is_directory=True)
    return link


def start_local_ray(
    temp_dir: str | Path,
    num_cpus: int | None = None,
    num_gpus: int | None = None,
    resources: dict[str, float] | None = None,
    labels: dict[str, str] | None = None,
    object_store_memory: int | None = None,
    idle_workers: int | None = None,
) -> str:
    """Start (or find already running) a head under ``temp_dir``; its GCS address.

    ``idle_workers``: how many idle worker processes the raylet keeps (Ray's
    ``num_workers_soft_limit``, read from the environment of the processes it starts; Ray's
    default is the CPU count): a pod's task then starts on a warm worker, not a new one."""
    temp = Path(temp_dir).resolve()
    temp.mkdir(parents=True, exist_ok=True)
    state = _state(temp)
    if state and _session_alive(state["sid"]):
        return state["address"]
    token = temp / TOKEN_FILE
    if not token.exists():
        token.write_text(secrets.token_hex(32))
        token.chmod(0o600)
    args = [
        sys.executable,
        "-m",
        "ray.scripts.scripts",
        "start",
        "--head",
        "--port=0",
        f"--temp-dir={short_path(temp)}",
        "--include-dashboard=false",
        "--node-ip-address=127.0.0.1",
        "--disable-usage-stats",
    ]
    if num_cpus is not None:
        args.append(f"--num-cpus={num_cpus}")
    if num_gpus is not None:
        args.append(f"--num-gpus={num_gpus}")
    if resources:
        args.append(f"--resources={json.dumps(resources)}")
    if labels:
        args.append("--labels=" + ",".join(f"{k}={v}" for k, v in sorted(labels.items())))
    if object_store_memory:
        args.append(f"--object-store-memory={object_store_memory}")
    env = {**os.environ, **driver_env(temp)}
    if idle_workers is not None:
        env["RAY_num_workers_soft_limit"] = str(idle_workers)
    proc = subprocess.Popen(
        args,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        output, _ = proc.communicate(timeout=_START_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
    address_file = temp / "ray_current_cluster"
    if proc.returncode != 0 or not address_file.exists():
        # A start that gave up (the node timed out on a swamped machine) leaves what it had
        # started of its session running: the GCS, the dashboard, the monitors.
        _stop_session(proc.pid, grace=0.5)
        raise RuntimeError(
            f"ray start failed ({proc.returncode}): {output.decode(errors='replace')[-2000:]}"
        )
    address = address_file.read_text().strip()
    (temp / STATE_FILE).write_text(json.dumps({"address": address, "sid": proc.pid}))
    return address


def stop_local_ray(temp_dir: str | Path, grace: float = 2.0) -> None:
    """Stop the head started under ``temp_dir``: every process of its session.

    In order, as ``ray stop`` does: the raylet (it ends its workers), then the GCS, then the
    helpers; a helper still there after its short grace is killed. Signalled all at once,
    the raylet and the GCS wait on each other and the autoscaler monitor ignores SIGTERM,
    so nothing had gone after 10 s (measured); in order the core is gone in ~50 ms."""
    temp = Path(temp_dir).resolve()
    state = _state(temp)
    if not state:
        return
    _stop_session(state["sid"], grace)
    (temp / STATE_FILE).unlink(missing_ok=True)
    link = short_path(temp)
    if link != temp and link.is_symlink():
        link.unlink()


def _stop_session(sid: int, grace: float) -> None:
    """Stop every process of the Ray session ``sid``, in ``ray stop``'s order."""
    steps = (
        (_RAYLET, signal.SIGTERM, grace),
        (_GCS, signal.SIGTERM, grace),
        ("", signal.SIGTERM, 0.5),
        ("", signal.SIGKILL, 2.0),
    )
    for marker, sig, wait in steps:
        chosen = [pid for pid in session_members(sid) if marker in _cmdline(pid)]
        for pid in chosen:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait
        while set(chosen) & set(session_members(sid)) and time.monotonic() < deadline:
            time.sleep(0.02)
        if not session_members(sid):
            break
