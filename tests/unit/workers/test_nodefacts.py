"""A node's facts for nodeInfo, read on the node: os-release, uname, GOARCH names."""

import platform

import pytest

from berth.workers.node import nodefacts

DEBIAN = """PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
ID=debian
"""


@pytest.mark.parametrize(
    "text, image",
    [
        (DEBIAN, "Debian GNU/Linux 12 (bookworm)"),
        ("NAME='Alpine Linux'\nPRETTY_NAME='Alpine Linux v3.20'\n", "Alpine Linux v3.20"),
        ('# comment\nNAME=Fedora\nVERSION="40 (Container Image)"\n', "Fedora 40 (Container Image)"),
        ('PRETTY_NAME="Ubuntu \\"Noble\\" 24.04"\n', 'Ubuntu "Noble" 24.04'),
        ('PRETTY_NAME="unbalanced\n', "unbalanced"),
        ("", ""),
    ],
)
def test_os_image_is_pretty_name_else_name_and_version(text, image):
    assert nodefacts.os_image(text) == image


@pytest.mark.parametrize(
    "machine, arch",
    [
        ("x86_64", "amd64"),
        ("aarch64", "arm64"),
        ("armv7l", "arm"),
        ("i686", "386"),
        ("ppc64le", "ppc64le"),
        ("s390x", "s390x"),
        ("mips64", "mips64"),
    ],
)
def test_machine_names_become_go_architectures(machine, arch):
    assert nodefacts.go_arch(machine) == arch


def test_read_takes_the_first_os_release_that_exists(tmp_path):
    (tmp_path / "usr-lib").write_text(DEBIAN)
    facts = nodefacts.read((tmp_path / "missing", tmp_path / "usr-lib"))
    assert facts == {
        "architecture": nodefacts.go_arch(platform.machine()),
        "operatingSystem": platform.system().lower(),
        "osImage": "Debian GNU/Linux 12 (bookworm)",
        "kernelVersion": platform.release(),
    }


def test_without_any_os_release_the_image_is_the_system_and_release(tmp_path):
    facts = nodefacts.read((tmp_path / "none",))
    assert facts["osImage"] == f"{platform.system()} {platform.release()}"
