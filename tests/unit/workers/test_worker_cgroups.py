"""cgroup discovery (pure) and, where this host allows, real memory limits and OOM kills."""

import shutil

import pytest

from berth.workers.node import cgroups, logs, process
from berth.workers.node.cgroups import Hierarchy, Limits

V1_MOUNTS = """tmpfs /sys/fs/cgroup tmpfs rw 0 0
cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0
cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0
cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0
"""
V1_SELF = "4:memory:/process_api/abc\n1:cpu:/\n0::/\n"
V2_MOUNTS = "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0\n"
V2_SELF = "0::/user.slice/session-1.scope\n"


@pytest.mark.parametrize(
    "self_cgroup, mounts, expected",
    [
        (
            V1_SELF,
            V1_MOUNTS,
            Hierarchy(
                1,
                memory=cgroups.Path("/sys/fs/cgroup/memory/process_api/abc"),
                cpu=cgroups.Path("/sys/fs/cgroup/cpu/"),
            ),
        ),
        (
            V2_SELF,
            V2_MOUNTS,
            Hierarchy(2, unified=cgroups.Path("/sys/fs/cgroup/user.slice/session-1.scope")),
        ),
        ("0::/\n", V2_MOUNTS, Hierarchy(2, unified=cgroups.Path("/sys/fs/cgroup"))),
        ("", "", Hierarchy(0)),
    ],
)
def test_parse_hierarchy(self_cgroup, mounts, expected):
    assert cgroups.parse_hierarchy(self_cgroup, mounts) == expected


def test_no_limits_means_no_group():
    group = cgroups.create(cgroups.detect(), "none", Limits())
    assert group.dirs == [] and group.rlimit_as is None


def test_no_cgroup_falls_back_to_rlimit():
    group = cgroups.create(Hierarchy(0), "x", Limits(memory_bytes=1 << 30))
    assert group.rlimit_as == 1 << 30 and group.memory_enforced


def real_group(name, limits):
    group = cgroups.create(cgroups.detect(), name, limits)
    if not group.dirs:
        pytest.skip("no cgroup with a memory controller can be created here")
    return group


BWRAP = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--die-with-parent"]


@pytest.mark.parametrize("sandboxed", [False, True], ids=["plain", "bwrap"])
def test_memory_limit_kills_with_137_and_reports_oom(tmp_path, sandboxed):
    if sandboxed and shutil.which("bwrap") is None:
        pytest.skip("no bwrap here")
    group = real_group(f"test-oom-{tmp_path.name}", Limits(memory_bytes=32 << 20))
    command = ["/bin/sh", "-c", "python3 -c 'x = bytearray(256 << 20); print(len(x))'"]
    try:
        cp = process.spawn(
            [*BWRAP, "--", *command] if sandboxed else command,
            env={"PATH": "/usr/bin:/bin"},
            cwd=None,
            log=logs.LogWriter(tmp_path / "0.log"),
            group=group,
            sandboxed=sandboxed,
        )
        code = process.wait_exit(cp)
        assert code == 137
        assert group.oom_killed()
    finally:
        group.remove()
    assert all(not d.exists() for d in group.dirs)


def test_within_the_limit_nothing_is_killed(tmp_path):
    group = real_group(f"test-fit-{tmp_path.name}", Limits(memory_bytes=256 << 20, cpu_milli=500))
    try:
        cp = process.spawn(
            ["/bin/sh", "-c", "python3 -c 'x = bytearray(16 << 20)'"],
            env={"PATH": "/usr/bin:/bin"},
            cwd=None,
            log=logs.LogWriter(tmp_path / "0.log"),
            group=group,
            sandboxed=False,
        )
        assert process.wait_exit(cp) == 0
        assert not group.oom_killed()
        assert group.cpu_enforced
    finally:
        group.remove()


def fake_v2(tmp_path, enabled=""):
    root = tmp_path / "cg"
    (root / "berth").mkdir(parents=True)
    (root / "cgroup.subtree_control").write_text(enabled)
    (root / "berth" / "cgroup.subtree_control").write_text(enabled)
    return root


def test_v2_delegates_the_controllers_and_writes_the_limits(tmp_path):
    root = fake_v2(tmp_path)
    group = cgroups.create(
        Hierarchy(2, unified=root), "pod-c-0", Limits(memory_bytes=64 << 20, cpu_milli=250)
    )
    leaf = root / "berth" / "pod-c-0"
    assert group.dirs == [leaf] and group.version == 2
    assert (root / "cgroup.subtree_control").read_text() == "+memory +cpu"
    assert (leaf / "memory.max").read_text() == str(64 << 20)
    assert (leaf / "cpu.max").read_text() == "25000 100000"
    assert group.memory_enforced and group.cpu_enforced and group.rlimit_as is None


def test_v2_reads_oom_kills_from_memory_events(tmp_path):
    root = fake_v2(tmp_path, "cpu memory")
    group = cgroups.create(Hierarchy(2, unified=root), "x", Limits(memory_bytes=1 << 20))
    (group.dirs[0] / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert group.oom_killed()


def test_v2_without_delegation_falls_back_to_rlimit(tmp_path):
    root = tmp_path / "cg"
    (root / "cgroup.subtree_control").mkdir(parents=True)  # unwritable: no delegation here
    group = cgroups.create(Hierarchy(2, unified=root), "x", Limits(memory_bytes=1 << 30))
    assert group.dirs == [] and group.rlimit_as == 1 << 30
