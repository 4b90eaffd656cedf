"""``compose.yaml`` against the Compose Specification's JSON schema, and against the code it
starts: every image, port, volume and environment variable it names is one that code uses.

No Docker engine runs here, so this is what CI can prove about the deployment. The schema is
the one ``check-jsonschema`` vendors from the compose-spec project (``vendor.compose-spec``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import ray
import yaml

from berth.platform.api.app import create_app, create_ops_app
from berth.platform.metrics.series import Metrics
from berth.settings import Settings

REPO = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((REPO / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
BERTH_SERVICES = {n for n, s in SERVICES.items() if s.get("image") == "berth:local"}
# Variables the third-party images document (their reference pages), by prefix.
POSTGRES_ENV = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}  # hub.docker.com/_/postgres
GRAFANA_ENV = {"GF_SECURITY_ADMIN_PASSWORD"}  # grafana.ini [security] admin_password
GRAFANA_PORT = 3000  # grafana.ini [server] http_port default
DCGM_PORT = 9400  # dcgm-exporter's default listen address
RAY_METRICS = re.compile(r"--metrics-export-port=(\d+)")


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    return {k: str(v) for k, v in env.items()}


def interpolated(text: str) -> set[str]:
    return set(re.findall(r"\$\{([A-Z_]+)", text))


def test_compose_matches_the_compose_specification_schema():
    program = shutil.which("check-jsonschema") or str(
        Path(sys.executable).parent / "check-jsonschema"
    )
    result = subprocess.run(
        [program, "--builtin-schema", "vendor.compose-spec", str(REPO / "compose.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_services_the_deployment_promises():
    assert set(SERVICES) == {
        "postgres",
        "ray-head",
        "ray-worker",
        "ray-gpu-worker",
        "berth-api",
        "berth-controller",
        "prometheus",
        "grafana",
        "dcgm-exporter",
    }
    assert SERVICES["ray-gpu-worker"]["profiles"] == ["gpu"]
    assert SERVICES["dcgm-exporter"]["profiles"] == ["gpu"]
    for name in ("ray-gpu-worker", "dcgm-exporter"):
        devices = SERVICES[name]["deploy"]["resources"]["reservations"]["devices"]
        assert devices == [{"driver": "nvidia", "count": "all", "capabilities": ["gpu"]}]
    assert SERVICES["berth-api"]["deploy"]["replicas"] >= 2
    assert SERVICES["berth-controller"]["deploy"]["replicas"] == 2
    for name, service in SERVICES.items():
        if name not in ("ray-worker", "ray-gpu-worker", "dcgm-exporter"):
            assert "healthcheck" in service, name


def test_berth_env_vars_are_settings_fields():
    fields = set(Settings.model_fields)
    dockerfile = (REPO / "Dockerfile").read_text()
    named = set(re.findall(r"\b(BERTH_[A-Z_]+)=", dockerfile))
    for name in BERTH_SERVICES:
        named |= {k for k in environment(SERVICES[name]) if k.startswith("BERTH_")}
    assert named
    for var in named:
        assert var.removeprefix("BERTH_").lower() in fields, f"{var} is no setting"
    roles = {environment(SERVICES[n]).get("BERTH_ROLE") for n in ("berth-api", "berth-controller")}
    assert roles == {"api", "controller"}
    for role in roles:
        Settings(role=role)  # a value the setting accepts


@cache
def _ray_files() -> list[Path]:
    root = Path(ray.__file__).parent
    return [*root.glob("*.py"), *root.glob("_private/**/*.py"), *root.glob("_raylet*.so")]


def test_other_env_vars_are_read_by_the_program_they_configure():
    for name, service in SERVICES.items():
        for var in environment(service):
            if var.startswith("BERTH_"):
                continue
            if var.startswith("RAY_"):
                assert any(var.encode() in p.read_bytes() for p in _ray_files()), (
                    f"{name}: Ray never reads {var}"
                )
            elif name == "postgres":
                assert var in POSTGRES_ENV, var
            elif name == "grafana":
                assert var in GRAFANA_ENV, var
            else:
                pytest.fail(f"{name}: {var} is read by nothing we know")


def test_every_dotenv_variable_is_documented_in_the_readme():
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Run a cluster", 1)[1].split("\n## ", 1)[0]
    variables = interpolated((REPO / "compose.yaml").read_text())
    assert variables == {
        "RAY_AUTH_TOKEN",
        "POSTGRES_PASSWORD",
        "BERTH_ENCRYPTION_KEY",
        "GRAFANA_ADMIN_PASSWORD",
    }
    for var in variables:
        assert var in section, f"{var} is not explained in README's Run a cluster"


def test_connections_name_services_and_ports_that_exist():
    env = environment(SERVICES["berth-api"])
    database = re.match(
        r"postgresql\+psycopg://(\w+):.*@([\w-]+):(\d+)/(\w+)$", env["BERTH_DATABASE_URL"]
    )
    postgres = environment(SERVICES["postgres"])
    assert database.group(1) == postgres["POSTGRES_USER"]
    assert database.group(2) == "postgres" and database.group(3) == "5432"
    assert database.group(4) == postgres["POSTGRES_DB"]
    host, port = env["BERTH_RAY_ADDRESS"].split(":")
    assert host == "ray-head" and f"--port={port}" in SERVICES["ray-head"]["command"]
    for name in ("ray-worker", "ray-gpu-worker"):
        assert f"--address={host}:{port}" in SERVICES[name]["command"]


def test_only_the_api_and_grafana_are_published_on_loopback():
    published = {n: s["ports"] for n, s in SERVICES.items() if s.get("ports")}
    assert set(published) == {"berth-api", "grafana"}
    berth_port = int(re.search(r"BERTH_PORT=(\d+)", (REPO / "Dockerfile").read_text())[1])
    expected = {"berth-api": berth_port, "grafana": GRAFANA_PORT}
    for name, ports in published.items():
        for port in ports:
            host_ip, _, container = port.split(":")
            assert host_ip == "127.0.0.1", port
            assert int(container) == expected[name]


def test_berth_services_run_the_berth_image_and_its_commands():
    assert BERTH_SERVICES == {
        "ray-head",
        "ray-worker",
        "ray-gpu-worker",
        "berth-api",
        "berth-controller",
    }
    assert (REPO / "Dockerfile").exists()
    for name in BERTH_SERVICES:
        assert SERVICES[name]["build"] == "."
        command = SERVICES[name]["command"]
        assert command[:2] in (["berth", "up"], ["ray", "start"]), name
    for name, service in SERVICES.items():
        if name not in BERTH_SERVICES:
            assert ":" in service["image"] and not service["image"].endswith(":latest")


def test_health_checks_ask_endpoints_berth_serves():
    api = {r.path for r in create_app(None, Metrics()).routes}
    ops = {r.path for r in create_ops_app(None, Metrics()).routes}
    assert {"/readyz", "/healthz", "/metrics"} <= api
    assert {"/readyz", "/healthz", "/metrics"} <= ops
    assert "/api/{rest:path}" not in ops
    assert "/readyz" in " ".join(SERVICES["berth-api"]["healthcheck"]["test"])
    assert "/healthz" in " ".join(SERVICES["berth-controller"]["healthcheck"]["test"])


def test_volumes_are_declared_used_and_mounted_where_the_configs_expect():
    declared = set(COMPOSE["volumes"])
    used = set()
    for service in SERVICES.values():
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            if source.startswith("./"):
                assert (REPO / source).exists(), volume
            else:
                used.add(source)
    assert used == declared
    data_dir = re.search(r"BERTH_DATA_DIR=(\S+)", (REPO / "Dockerfile").read_text())[1]
    for name in ("berth-controller", "ray-head", "ray-worker", "ray-gpu-worker"):
        assert f"berth-data:{data_dir}" in SERVICES[name]["volumes"], name
    assert "postgres-data:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]
    provider = yaml.safe_load(
        (REPO / "dashboards/grafana/provisioning/dashboards/berth.yml").read_text()
    )["providers"][0]["options"]["path"]
    assert f"./dashboards/grafana/dashboards:{provider}:ro" in SERVICES["grafana"]["volumes"]
    assert (
        "./dashboards/prometheus.yml:/etc/prometheus/prometheus.yml:ro"
        in SERVICES["prometheus"]["volumes"]
    )


def test_prometheus_scrapes_services_on_the_ports_they_serve_metrics_on():
    config = yaml.safe_load((REPO / "dashboards/prometheus.yml").read_text())
    berth_port = int(re.search(r"BERTH_PORT=(\d+)", (REPO / "Dockerfile").read_text())[1])
    scraped = set()
    for job in config["scrape_configs"]:
        for sd in job["dns_sd_configs"]:
            for name in sd["names"]:
                assert name in SERVICES, name
                scraped.add(name)
                if name.startswith("berth-"):
                    assert sd["port"] == berth_port
                elif name.startswith("ray-"):
                    command = " ".join(SERVICES[name]["command"])
                    assert int(RAY_METRICS.search(command)[1]) == sd["port"]
                else:
                    assert sd["port"] == DCGM_PORT
    assert scraped == {
        "berth-api",
        "berth-controller",
        "ray-head",
        "ray-worker",
        "ray-gpu-worker",
        "dcgm-exporter",
    }
