"""The node's sandbox probe (it runs bwrap, not just looks for it) and which pods need one."""

import os

import pytest

from berth.workers.node.sandboxcheck import (
    NO_SANDBOX_RUNTIME,
    probe,
    refusal_message,
    sandbox_needs,
)
from tests.support import require_bwrap


def test_no_bwrap_on_path_is_no_sandbox_and_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without bubblewrap
    found = probe("bwrap")
    assert not found.works and found.path is None
    assert found.runtime_version == NO_SANDBOX_RUNTIME
    assert "bubblewrap (bwrap) is not installed" in found.problem
    assert "apt-get install -y bubblewrap" in found.problem


def test_a_bwrap_path_that_does_not_exist_is_no_sandbox():
    found = probe("/nonexistent/bwrap")
    assert not found.works and "/nonexistent/bwrap" in found.problem


def test_a_bwrap_that_cannot_make_a_sandbox_is_no_sandbox(tmp_path):
    fake = tmp_path / "bwrap"
    fake.write_text(
        "#!/bin/sh\necho 'bwrap: No permissions to creating new namespace' >&2\nexit 1\n"
    )
    fake.chmod(0o755)
    found = probe(str(fake))
    assert not found.works
    assert (
        "does not work on this node: bwrap: No permissions to creating new namespace"
        in found.problem
    )


def test_an_empty_setting_means_no_sandbox():
    assert not probe("").works and not probe(None).works


def test_a_working_bwrap_is_found_by_running_it():
    bwrap = require_bwrap()
    found = probe("bwrap")
    assert found.works and found.path is not None and os.path.samefile(found.path, bwrap)
    assert found.runtime_version.startswith("berth://bubblewrap-")
    assert found.info() == {
        "sandboxed": True,
        "runtimeVersion": found.runtime_version,
        "path": found.path,
        "problem": "",
    }


@pytest.mark.parametrize(
    "spec, needs",
    [
        ({"containers": [{"name": "c"}]}, []),
        (
            {"containers": [{"name": "c", "volumeMounts": [{"name": "v", "mountPath": "/data"}]}]},
            ["volume mounts (/data)"],
        ),
        (
            {
                "initContainers": [
                    {"name": "i", "volumeMounts": [{"name": "v", "mountPath": "/x"}]}
                ],
                "containers": [{"name": "c"}],
                "hostname": "job-0",
            },
            ["volume mounts (/x)", "a hostname of its own (spec.hostname)"],
        ),
    ],
)
def test_pods_that_need_a_sandbox(spec, needs):
    assert sandbox_needs({"spec": spec}) == needs


def test_the_refusal_names_the_program_the_need_and_the_fix():
    problem = probe("/nonexistent/bwrap").problem
    message = refusal_message("node-1", problem, ["volume mounts (/data)"])
    assert "node-1" in message and "volume mounts (/data)" in message
    assert "bubblewrap" in message and "apt-get install -y bubblewrap" in message
