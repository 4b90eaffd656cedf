"""bubblewrap argv building and executable lookup, over a fake host filesystem."""

import pytest

from berth.workers.node.sandbox import (
    FileData,
    HostView,
    Mount,
    SandboxSpec,
    build_bwrap_argv,
    find_executable,
)


class FakeHost(HostView):
    """A host tree: path -> 'dir' | 'file' | 'exec' | ('link', target)."""

    def __init__(self, tree):
        self.tree = {"/": "dir", **tree}

    def listdir(self, path):
        prefix = path.rstrip("/") + "/"
        return sorted(
            {
                p[len(prefix) :].split("/")[0]
                for p in self.tree
                if p.startswith(prefix) and p != prefix
            }
        )

    def kind(self, path):
        entry = self.tree.get(path)
        if entry is None:
            return "missing"
        if isinstance(entry, tuple):
            return "link"
        return "file" if entry == "exec" else entry

    def readlink(self, path):
        return self.tree[path][1]

    def executable(self, path):
        return self.tree.get(path) == "exec"


HOST = FakeHost(
    {
        "/usr": "dir",
        "/usr/bin": "dir",
        "/usr/bin/python3": "exec",
        "/usr/bin/notes": "file",
        "/usr/share": "dir",
        "/usr/share/doc": "dir",
        "/usr/share/zoneinfo": "dir",
        "/bin": ("link", "usr/bin"),
        "/etc": "dir",
        "/proc": "dir",
        "/dev": "dir",
        "/tmp": "dir",
        "/root": "dir",
        "/var": "dir",
        "/var/berth": "dir",
        "/srv": "dir",
        "/srv/pvc": "dir",
        "/srv/pvc/run.sh": "exec",
    }
)


def argv_for(**fields):
    spec = SandboxSpec(
        argv=fields.pop("argv", ["true"]), hostname=fields.pop("hostname", "p"), **fields
    )
    fds = iter(range(10, 100))
    return build_bwrap_argv(spec, open_file=lambda data: next(fds), host=HOST)


def pairs(argv, flag):
    return [tuple(argv[i + 1 : i + 3]) for i, a in enumerate(argv) if a == flag]


def tmpfs_targets(argv):
    return [argv[i + 1] for i, a in enumerate(argv) if a == "--tmpfs"]


def test_host_root_is_read_only_and_sandbox_owns_proc_dev_tmp_root():
    argv = argv_for()
    assert ("/usr", "/usr") in pairs(argv, "--ro-bind")
    assert ("usr/bin", "/bin") in pairs(argv, "--symlink")
    bound = [dest for _, dest in pairs(argv, "--ro-bind")]
    assert not {"/proc", "/dev", "/tmp", "/root"} & set(bound)
    for flag, dest in [
        ("--proc", "/proc"),
        ("--dev", "/dev"),
        ("--tmpfs", "/tmp"),
        ("--tmpfs", "/root"),
    ]:
        assert argv[argv.index(dest) - 1] == flag


def test_namespaces_hostname_and_command_come_last():
    argv = argv_for(argv=["python3", "-c", "print(1)"], hostname="job-3")
    tail = argv[argv.index("--") :]
    assert tail == ["--", "python3", "-c", "print(1)"]
    for flag in ("--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent"):
        assert flag in argv
    assert argv[argv.index("--hostname") + 1] == "job-3"
    assert "--unshare-net" not in argv


@pytest.mark.parametrize(
    "mount, flag",
    [
        (Mount("/data", source="/srv/pvc"), "--bind"),
        (Mount("/data", source="/srv/pvc", read_only=True), "--ro-bind"),
    ],
)
def test_host_directory_volumes_bind_rw_or_ro(mount, flag):
    argv = argv_for(mounts=[mount])
    assert ("/srv/pvc", "/data") in pairs(argv, flag)
    assert tmpfs_targets(argv) == ["/tmp", "/root"]


def test_mount_under_a_missing_host_path_opens_the_deepest_existing_dir():
    argv = argv_for(mounts=[Mount("/usr/share/nginx/html", source="/srv/pvc")])
    opened = argv.index("/usr/share") - 1
    assert argv[opened] == "--tmpfs"
    children = pairs(argv, "--ro-bind")
    assert ("/usr/share/doc", "/usr/share/doc") in children
    assert ("/usr/share/zoneinfo", "/usr/share/zoneinfo") in children
    assert argv.index("--bind") > opened


def test_mount_over_an_existing_dir_opens_nothing():
    argv = argv_for(mounts=[Mount("/etc", source="/srv/pvc")])
    assert tmpfs_targets(argv) == ["/tmp", "/root"]


def test_file_volumes_live_on_a_read_only_tmpfs_with_their_modes():
    files = {"user": FileData(b"admin", 0o400), "sub/key": FileData(b"k", 0o755)}
    argv = argv_for(mounts=[Mount("/etc/secret", files=files)])
    start = argv.index("/etc/secret") - 1
    assert argv[start - 2 : start + 2] == ["--perms", "0755", "--tmpfs", "/etc/secret"]
    assert ("0755", "--dir") in pairs(argv, "--perms")
    assert argv[argv.index("/etc/secret/user") - 2] == "--file"
    assert argv[argv.index("/etc/secret/user") - 3] == "0400"
    assert ("10", "/etc/secret/sub/key") in pairs(argv, "--file")
    assert ("/etc/secret", "--unshare-pid") in pairs(argv, "--remount-ro")


def test_hidden_paths_become_empty():
    argv = argv_for(hide=["/var/berth"])
    assert tmpfs_targets(argv) == ["/tmp", "/root", "/var/berth"]


def test_workdir_is_created_then_entered():
    argv = argv_for(workdir="/work/app")
    assert argv[argv.index("--chdir") + 1] == "/work/app"
    assert argv.index("--dir") < argv.index("--chdir")


def test_gpu_devices_are_bound():
    argv = argv_for(devices=["/dev/nvidia0", "/dev/nvidiactl"])
    assert ("/dev/nvidia0", "/dev/nvidia0") in pairs(argv, "--dev-bind-try")


@pytest.mark.parametrize(
    "argv0, mounts, ok, message",
    [
        ("python3", [], True, ""),
        ("nosuchcmd", [], False, 'exec: "nosuchcmd": executable file not found in $PATH'),
        ("notes", [], False, 'exec: "notes": permission denied'),
        ("/usr/bin/python3", [], True, ""),
        ("/no/such", [], False, 'exec: "/no/such": stat /no/such: no such file or directory'),
        ("/scripts/run.sh", [Mount("/scripts", files={"run.sh": FileData(b"", 0o755)})], True, ""),
        (
            "/scripts/run.sh",
            [Mount("/scripts", files={"run.sh": FileData(b"", 0o644)})],
            False,
            'exec: "/scripts/run.sh": permission denied',
        ),
        ("/data/run.sh", [Mount("/data", source="/srv/pvc")], True, ""),
        ("/tmp/x", [], False, 'exec: "/tmp/x": stat /tmp/x: no such file or directory'),
    ],
)
def test_find_executable_sees_what_the_sandbox_sees(argv0, mounts, ok, message):
    spec = SandboxSpec(argv=[argv0], hostname="p", mounts=mounts)
    assert find_executable(argv0, "/usr/local/bin:/usr/bin", spec, HOST) == (ok, message)
