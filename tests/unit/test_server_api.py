"""The API process of embedded ``berth up`` runs the controller process's settings, as they
travel to it (JSON on its stdin), with the API role only and no Ray of its own."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from berth.server_api import api_settings, paced
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


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def test_a_nudge_after_a_quiet_spell_goes_at_once_and_a_busy_one_waits_out_the_gap():
    clock, nudged = _Clock(), []
    nudge = paced(lambda: nudged.append(clock.now), 0.02, clock=clock, sleep=clock.sleep)
    nudge()  # the first: at once
    clock.now += 0.005
    nudge()  # 5 ms later: waits until 20 ms after the first
    clock.now += 0.5
    nudge()  # after a quiet half second: at once again
    assert nudged == pytest.approx([100.0, 100.02, 100.52])
    assert clock.slept == pytest.approx([0.015])
