"""Container processes: exit codes, merged logs, process-group stop with no orphan left."""

import subprocess
import threading
import time

import pytest

from berth.workers.node import logs, process
from berth.workers.node.cgroups import ContainerGroup

ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin"}


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def gone_soon(pid, within=3.0):
    deadline = time.monotonic() + within
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not alive(pid)


def start(tmp_path, script, **kwargs):
    writer = logs.LogWriter(tmp_path / "0.log")
    return process.spawn(
        ["/bin/sh", "-c", script],
        env=ENV,
        cwd=str(tmp_path),
        log=writer,
        group=ContainerGroup(),
        sandboxed=False,
        **kwargs,
    )


def wait_for_file(path, within=5.0):
    deadline = time.monotonic() + within
    while not (path.exists() and path.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.01)
    return path.read_text().strip()


@pytest.mark.parametrize(
    "script, code",
    [
        ("exit 0", 0),
        ("exit 3", 3),
        ("kill -9 $$", 137),
        ("kill -15 $$", 143),
    ],
)
def test_exit_codes_are_kubernetes_codes(tmp_path, script, code):
    assert process.wait_exit(start(tmp_path, script)) == code


def test_stdout_and_stderr_are_merged_in_order(tmp_path):
    cp = start(tmp_path, "echo out; echo err >&2; echo out2")
    process.wait_exit(cp)
    text = b"".join(r.text + b"\n" for r in logs.parse_records((tmp_path / "0.log").read_bytes()))
    assert text == b"out\nerr\nout2\n"
    assert (tmp_path / "0.done").exists()


def test_exit_of_the_main_process_kills_what_it_left_behind(tmp_path):
    cp = start(tmp_path, "sleep 300 & echo $! > child; exit 0")
    assert process.wait_exit(cp) == 0
    child = int(wait_for_file(tmp_path / "child"))
    assert gone_soon(child)


def test_stop_kills_a_grandchild_that_ignores_sigterm(tmp_path):
    cp = start(tmp_path, "trap '' TERM; (trap '' TERM; sleep 300) & echo $! > child; wait")
    child = int(wait_for_file(tmp_path / "child"))
    codes: list[int] = []
    waiter = threading.Thread(target=lambda: codes.append(process.wait_exit(cp)))
    waiter.start()
    began = time.monotonic()
    process.terminate(cp, grace=0.3)
    waiter.join(5)
    assert codes == [137]
    assert time.monotonic() - began >= 0.3
    assert gone_soon(child)


def test_stop_lets_a_process_exit_gracefully_within_the_grace_period(tmp_path):
    cp = start(tmp_path, "trap 'echo bye; exit 0' TERM; sleep 300 & wait")
    time.sleep(0.2)
    codes: list[int] = []
    waiter = threading.Thread(target=lambda: codes.append(process.wait_exit(cp)))
    waiter.start()
    began = time.monotonic()
    process.terminate(cp, grace=10)
    waiter.join(5)
    assert codes == [0]
    assert time.monotonic() - began < 5
    assert b"bye" in (tmp_path / "0.log").read_bytes()


def test_missing_program_cannot_start(tmp_path):
    writer = logs.LogWriter(tmp_path / "0.log")
    with pytest.raises(FileNotFoundError):
        process.spawn(
            ["/no/such/program"],
            env=ENV,
            cwd=None,
            log=writer,
            group=ContainerGroup(),
            sandboxed=False,
        )


def test_parse_pgrp_survives_odd_command_names():
    assert process.parse_pgrp("42 (a (b) c) S 1 77 77 0 -1") == 77


def test_group_members_lists_the_session(tmp_path):
    cp = start(tmp_path, "sleep 300 & echo $! > child; wait")
    child = int(wait_for_file(tmp_path / "child"))
    assert {cp.pid, child} <= set(process.group_members(cp.pid))
    process.terminate(cp, grace=0)
    process.wait_exit(cp)


def test_the_joining_shell_writes_each_cgroup_then_limits_then_execs(tmp_path):
    procs = [tmp_path / "a.procs", tmp_path / "b procs"]  # a space survives as one argument
    argv = process.joining_argv(
        ["sh", "-c", 'ulimit -v; echo "$0" "$1"', "x y", "z"], [str(p) for p in procs], 5 << 20
    )
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    assert out == f"{5 << 10}\nx y z\n"
    assert [p.read_text() for p in procs] == ["0\n", "0\n"]  # "0": the writer itself joins


def test_the_joining_shell_fails_the_container_when_a_cgroup_refuses(tmp_path):
    argv = process.joining_argv(["true"], [str(tmp_path / "missing" / "cgroup.procs")], None)
    result = subprocess.run(argv, capture_output=True, text=True)
    assert result.returncode == 126
    assert "could not join cgroup" in result.stderr


def test_nothing_to_join_runs_the_command_as_it_is():
    assert process.joining_argv(["true", "x"], [], None) == ["true", "x"]
