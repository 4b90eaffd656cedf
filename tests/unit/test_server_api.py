"""The API process of embedded ``berth up`` runs the controller process's settings, as they
travel to it (JSON on its stdin), with the API role only and no Ray of its own."""

from __future__ import annotations

from pathlib import Path

import orjson

from berth.server_api import api_settings
from berth.settings import Settings


def test_the_api_process_gets_every_setting_but_its_role():
    given = Settings(
        port=9999,
        data_dir=Path("/tmp/somewhere"),
        encryption_key="k",
        node_labels={"gpu": "nvidia"},
        node_taints=[{"key": "a", "value": "b", "effect": "NoSchedule"}],
        lease_duration_s=9.0,
    )
    got = api_settings(orjson.loads(given.model_dump_json()))
    assert (got.role, got.workers, got.api_process) == ("api", False, False)
    assert got.runs_api and not got.runs_controllers
    same = {"role", "workers", "api_process"}
    assert got.model_dump(exclude=same) == given.model_dump(exclude=same)
