"""A ``cluster`` per test: a fresh store (SQLite and PostgreSQL), controllers and a fake kubelet."""

from __future__ import annotations

import pytest

from berth.platform.runtime import open_platform
from berth.settings import Settings
from tests.integration.controllers.job_harness import Cluster


@pytest.fixture
def platform(database_url, tmp_path):
    opened = open_platform(Settings(data_dir=tmp_path, database_url=database_url))
    yield opened
    opened.close()


@pytest.fixture
def cluster(platform):
    """Not started: a test may add pod observers first, then calls ``cluster.start()``."""
    made = Cluster(platform)
    yield made
    made.close()
