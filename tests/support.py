"""Helpers shared by test tiers (importable as ``tests.support``)."""

from __future__ import annotations

import functools
import os
import shutil
import time
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, text

PG_ADMIN_URL = os.environ.get(
    "BERTH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@functools.cache
def pg_problem() -> str | None:
    """Why PostgreSQL cannot be used here, or None: asked once, when a test first needs it
    (never at import, so collecting tests needs no server)."""
    try:
        engine = create_engine(PG_ADMIN_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure to connect means "no server here"
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}"


def make_pg_schema() -> tuple[str, Callable[[], None]]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with engine.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()

    return f"{PG_ADMIN_URL}?options=-csearch_path%3D{schema}", drop


BWRAP = shutil.which("bwrap")
BWRAP_MISSING = (
    "bubblewrap (bwrap), the pod sandbox, is not installed: `make sandbox` (or "
    "`apt-get install -y bubblewrap` as root) installs it"
)


def require_bwrap() -> str:
    """The bwrap the sandbox tests use; a missing one fails the test by name, never skips it."""
    if BWRAP is None:
        pytest.fail(BWRAP_MISSING)
    return BWRAP


def wait_for(check, timeout: float = 30.0, what: str = "condition", interval: float = 0.05):
    """Poll ``check`` until it returns something truthy; return that. Fails after
    ``timeout`` seconds naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
