"""The node's in-memory volumes: atomic ..data swaps on tmpfs, nothing on the node's disk."""

import os

import pytest

from berth.workers.node.filevolumes import (
    DATA,
    FileVolumes,
    VolumeError,
    filesystem_type,
    root_for,
    write_atomic,
)
from berth.workers.node.sandbox import FileData


@pytest.fixture
def volumes(tmp_path):
    files = FileVolumes(root_for(tmp_path))
    yield files
    files.prune(set())


def shown(folder):
    return {
        name: (folder / name).read_text()
        for name in sorted(os.listdir(folder))
        if not name.startswith("..") and (folder / name).is_file()
    }


def test_a_volume_is_symlinks_through_the_data_link(tmp_path):
    write_atomic(tmp_path / "v", {"city": FileData(b"Ann Arbor"), "dir/x": FileData(b"1", 0o600)})
    assert os.readlink(tmp_path / "v" / "city") == "..data/city"
    assert os.readlink(tmp_path / "v" / DATA).startswith("..")
    assert shown(tmp_path / "v")["city"] == "Ann Arbor"
    assert (tmp_path / "v" / "dir" / "x").stat().st_mode & 0o777 == 0o600


def test_an_update_swaps_whole_drops_removed_keys_and_the_old_payload(tmp_path):
    target = tmp_path / "v"
    write_atomic(target, {"a": FileData(b"1"), "b": FileData(b"2")})
    first = os.readlink(target / DATA)
    write_atomic(target, {"a": FileData(b"one"), "c": FileData(b"3")})
    assert shown(target) == {"a": "one", "c": "3"}
    assert os.readlink(target / DATA) != first and not (target / first).exists()
    assert sorted(e for e in os.listdir(target) if e.startswith("..")) == sorted(
        [DATA, os.readlink(target / DATA)]
    )


def test_publish_writes_only_what_changed(volumes):
    assert volumes.publish("u1", {"cfg": {"k": FileData(b"v")}}) == ["cfg"]
    assert volumes.publish("u1", {"cfg": {"k": FileData(b"v")}}) == []
    assert volumes.publish("u1", {"cfg": {"k": FileData(b"w")}}) == ["cfg"]
    assert volumes.publish("u1", {"cfg": {"k": FileData(b"x")}}, only_missing=True) == []
    assert shown(volumes.path("u1", "cfg")) == {"k": "w"}
    volumes.remove("u1")
    assert not volumes.path("u1", "cfg").exists()


def test_the_volumes_are_on_tmpfs_and_private_to_the_node(volumes):
    volumes.publish("u1", {"sec": {"password": FileData(b"s3cret", 0o400)}})
    assert filesystem_type(volumes.path("u1", "sec")) == "tmpfs"
    assert volumes.root.stat().st_mode & 0o777 == 0o700


def test_a_root_not_on_tmpfs_refuses_rather_than_write_to_disk(tmp_path):
    if filesystem_type(tmp_path) in ("tmpfs", "ramfs"):
        pytest.fail(f"{tmp_path} is on tmpfs here; this test needs a disk-backed folder")
    files = FileVolumes(tmp_path / "mem")
    with pytest.raises(VolumeError, match="not tmpfs"):
        files.publish("u1", {"sec": {"password": FileData(b"s3cret")}})
    assert not (tmp_path / "mem" / "u1").exists()
