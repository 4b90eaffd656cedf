"""A ``sim`` cluster per test: a fresh store (SQLite and PostgreSQL), the scheduler loop and
the simulated kubelet, started."""

from __future__ import annotations

import pytest

from berth.platform.runtime import open_platform
from berth.settings import Settings
from tests.integration.scheduler.sched_harness import SimCluster


@pytest.fixture
def platform(database_url, tmp_path):
    opened = open_platform(Settings(data_dir=tmp_path, database_url=database_url))
    yield opened
    opened.close()


@pytest.fixture
def sim(platform):
    cluster = SimCluster(platform).start()
    yield cluster
    cluster.stop()
