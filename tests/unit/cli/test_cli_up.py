"""``berth up`` refuses what it must before starting anything."""

import pytest
from typer.testing import CliRunner

from berth.cli.main import app
from berth.settings import Settings

runner = CliRunner()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::", "berth.example.com"])
def test_a_non_loopback_api_host_is_refused_without_the_opt_in(host, monkeypatch):
    monkeypatch.delenv("BERTH_ALLOW_INSECURE_HOST", raising=False)
    result = runner.invoke(app, ["up", "--host", host, "--port", "1"])
    assert result.exit_code == 2
    assert "no authentication" in result.output


def test_an_unknown_role_is_refused():
    result = runner.invoke(app, ["up", "--role", "scheduler", "--port", "1"])
    assert result.exit_code == 2
    assert "role" in result.output


@pytest.mark.parametrize(
    "host, loopback",
    [
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("10.0.0.1", False),
    ],
)
def test_loopback_hosts(host, loopback):
    assert Settings(host=host).host_is_loopback is loopback


@pytest.mark.parametrize(
    "role, api, controllers",
    [("all", True, True), ("api", True, False), ("controller", False, True)],
)
def test_roles(role, api, controllers):
    settings = Settings(role=role)
    assert (settings.runs_api, settings.runs_controllers) == (api, controllers)
