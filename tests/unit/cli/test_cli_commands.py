"""The ``berth`` commands' own checks and messages, before (or without) a server answering."""

from __future__ import annotations

import socket

import pytest
import yaml
from typer.testing import CliRunner

from berth.cli.main import app

runner = CliRunner()


def unused_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.mark.parametrize(
    "args, message",
    [
        (["get", "foo"], 'error: the server doesn\'t have a resource type "foo"'),
        (
            ["get", "jobs", "-o", "table"],
            'unable to match a printer suitable for the output format "table"',
        ),
        (["describe", "widgets", "x"], 'resource type "widgets"'),
        (["delete", "job"], "error: resource(s) were provided, but no name was specified"),
        (["delete", "job", "x", "--cascade", "later"], 'error: invalid --cascade "later"'),
        (["logs", "cm/x"], "error: cannot get logs of a ConfigMap"),
        (["run", "-e", "NOVALUE", "--", "true"], "error: --env 'NOVALUE': expected KEY=VALUE"),
        (
            ["apply", "-f", "/nonexistent/berth.yaml"],
            'error: the path "/nonexistent/berth.yaml" does not exist',
        ),
    ],
)
def test_local_problems_exit_1_with_a_message(args, message):
    result = runner.invoke(app, [*args, "--server", unused_url()])
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert result.stdout == ""


def test_an_unreachable_server_is_named():
    url = unused_url()
    result = runner.invoke(app, ["get", "jobs", "--server", url])
    assert result.exit_code == 1
    assert f"The connection to the server {url} was refused" in result.stderr


def test_the_server_comes_from_berth_server_when_not_given():
    url = unused_url()
    result = runner.invoke(app, ["get", "pods"], env={"BERTH_SERVER": url})
    assert result.exit_code == 1
    assert url in result.stderr


def test_a_manifest_that_is_not_yaml(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: [unclosed\n")
    result = runner.invoke(app, ["apply", "-f", str(bad), "--server", unused_url()])
    assert result.exit_code == 1
    assert f"error: error parsing {bad}" in result.stderr


def test_run_needs_a_command():
    result = runner.invoke(app, ["run", "--server", unused_url()])
    assert result.exit_code == 2


def test_run_takes_the_commands_own_options_after_its_first_word():
    # ``-c`` belongs to python3, not to berth run: parsing stops at the first argument, so the
    # request is attempted (and fails only for want of a server).
    result = runner.invoke(app, ["run", "--server", unused_url(), "python3", "-c", "print(1)"])
    assert result.exit_code == 1
    assert "was refused" in result.stderr


def test_kubeconfig_still_prints_a_config():
    result = runner.invoke(
        app, ["kubeconfig", "--server", "http://berth:9000", "--namespace", "team"]
    )
    assert result.exit_code == 0
    doc = yaml.safe_load(result.stdout)
    assert doc["clusters"][0]["cluster"]["server"] == "http://berth:9000"
    assert doc["contexts"][0]["context"]["namespace"] == "team"


@pytest.mark.parametrize(
    "command", ["run", "get", "describe", "logs", "delete", "apply", "up", "kubeconfig"]
)
def test_every_command_is_registered(command):
    assert runner.invoke(app, [command, "--help"]).exit_code == 0
