"""Fixtures shared by every tier: a fresh database per test, on SQLite and on PostgreSQL.

PostgreSQL runs use this machine's server (127.0.0.1:5432, user postgres, database test) with
a schema of their own per test; they skip, saying why, only when no server answers.
"""

from __future__ import annotations

import pytest

from tests.support import make_pg_schema, pg_problem


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'berth.db'}"
        return
    problem = pg_problem()
    if problem:
        pytest.skip(problem)
    url, drop = make_pg_schema()
    try:
        yield url
    finally:
        drop()
