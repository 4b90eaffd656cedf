"""The host's top-level binds every sandbox starts from: read once while ``/`` is unchanged."""

import os

from berth.workers.node.sandbox import HostView, RootBinds


class CountingHost(HostView):
    def __init__(self):
        self.listings = 0

    def listdir(self, path):
        self.listings += 1
        return super().listdir(path)


def settled(path, seconds_ago=10):
    """Date ``path``'s last change ``seconds_ago`` back, as if nothing had changed since."""
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - seconds_ago * 1_000_000_000))


def test_binds_are_read_once_while_the_root_is_unchanged(tmp_path):
    (tmp_path / "usr").mkdir()
    (tmp_path / "etc").mkdir()
    os.symlink("usr/bin", tmp_path / "bin")
    settled(tmp_path)
    host, root = CountingHost(), RootBinds(str(tmp_path))
    first = root.binds(host)
    assert dict(first) == {
        f"{tmp_path}/bin": ["--symlink", "usr/bin", f"{tmp_path}/bin"],
        f"{tmp_path}/etc": ["--ro-bind", f"{tmp_path}/etc", f"{tmp_path}/etc"],
        f"{tmp_path}/usr": ["--ro-bind", f"{tmp_path}/usr", f"{tmp_path}/usr"],
    }
    assert root.binds(host) == first
    assert host.listings == 1


def test_a_changed_root_is_read_again(tmp_path):
    (tmp_path / "usr").mkdir()
    settled(tmp_path)
    host, root = CountingHost(), RootBinds(str(tmp_path))
    root.binds(host)
    (tmp_path / "data").mkdir()
    settled(tmp_path, seconds_ago=5)  # a later mtime than the one read
    assert f"{tmp_path}/data" in dict(root.binds(host))
    (tmp_path / "usr").rmdir()
    os.symlink("data", tmp_path / "usr")
    settled(tmp_path, seconds_ago=2)
    assert dict(root.binds(host))[f"{tmp_path}/usr"][0] == "--symlink"
    assert host.listings == 3


def test_a_root_changed_just_now_is_not_kept(tmp_path):
    """Two changes within one tick of the file system's clock leave one mtime: a listing
    taken between them must not be kept."""
    (tmp_path / "usr").mkdir()  # the root's mtime is now
    host, root = CountingHost(), RootBinds(str(tmp_path), settle_s=60)
    root.binds(host)
    root.binds(host)
    assert host.listings == 2
