"""The checked-in dashboards are what ``dashboards/generate.py`` builds, and are provisionable."""

import json

import pytest
import yaml

from dashboards import generate
from dashboards.panels import DATASOURCE, queries

FILES = sorted(generate.OUT.glob("*.json"))


def test_every_dashboard_is_checked_in_as_generated():
    assert {f.stem for f in FILES} == set(generate.DASHBOARDS)
    for name, build in generate.DASHBOARDS.items():
        on_disk = (generate.OUT / f"{name}.json").read_text()
        assert on_disk == generate.render(build()), (
            f"{name}.json is stale: run python -m dashboards.generate"
        )


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_dashboard_uses_the_datasource_variable(path):
    board = json.loads(path.read_text())
    variables = board["templating"]["list"]
    assert [(v["name"], v["type"], v["query"]) for v in variables] == [
        ("datasource", "datasource", "prometheus")
    ]
    assert board["uid"] == path.stem
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        assert panel["datasource"] == DATASOURCE
        assert panel["targets"], panel["title"]
        assert all(t["datasource"] == DATASOURCE for t in panel["targets"])
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
    assert queries(board)


def test_provisioning_points_at_the_dashboards_and_prometheus():
    root = generate.OUT.parent / "provisioning"
    provider = yaml.safe_load((root / "dashboards" / "berth.yml").read_text())
    assert provider["providers"][0]["type"] == "file"
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards/berth"
    source = yaml.safe_load((root / "datasources" / "prometheus.yml").read_text())
    assert source["datasources"][0]["type"] == "prometheus"
    assert source["datasources"][0]["url"] == "http://prometheus:9090"
