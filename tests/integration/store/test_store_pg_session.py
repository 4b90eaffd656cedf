"""PostgreSQL sessions of the store: asynchronous commit unless the URL (or database, or role)
chose otherwise; a connection idle past ``PING_IDLE_S`` that the server dropped is replaced
before anyone uses it; the change log's trigger notifies once per write transaction."""

from __future__ import annotations

import psycopg
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from berth.platform.store import pg_session
from berth.platform.store.codec import Codec
from berth.platform.store.db import Database
from berth.platform.store.dialect import CHANGE_CHANNEL


@pytest.fixture
def pg_url(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL sessions only")
    return database_url


def _database(url: str) -> Database:
    db = Database(url, Codec(Fernet.generate_key()))
    db.migrate()
    return db


def _setting(db: Database) -> str:
    with db.engine.connect() as conn:
        return conn.execute(text("SHOW synchronous_commit")).scalar_one()


def test_sessions_commit_asynchronously_by_default(pg_url):
    db = _database(pg_url)
    try:
        assert _setting(db) == "off"
    finally:
        db.close()


def test_a_synchronous_commit_chosen_in_the_url_is_kept(pg_url):
    url = pg_url.replace("options=", "options=-csynchronous_commit%3Dremote_write%20")
    db = _database(url)
    try:
        assert _setting(db) == "remote_write"
    finally:
        db.close()


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(pg_url, monkeypatch):
    db = _database(pg_url)
    try:
        with db.engine.connect() as conn:
            dropped = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        admin = db.dialect.test_engine()
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as killer:
            killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
        admin.dispose()
        monkeypatch.setattr(pg_session, "PING_IDLE_S", 0.0)
        for _ in range(3):  # whichever pooled connection comes out, the read succeeds
            assert db.current_rv() == 0
    finally:
        db.close()


def test_a_write_transaction_notifies_once_at_its_commit(pg_url):
    db = _database(pg_url)
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://")
    user, options = plain.split("?", 1)
    listener = psycopg.connect(user, autocommit=True, options=_option(options))
    try:
        row = listener.execute("SELECT current_schema()").fetchone()
        schema = row[0] if row else ""
        listener.execute(f"LISTEN {CHANGE_CHANNEL}")

        def ours(timeout: float) -> list[int]:  # other tests' schemas notify on it too
            return [n.pid for n in listener.notifies(timeout=timeout) if n.payload == schema]

        with db.batch():
            for i in range(3):
                db.create("configmaps", _configmap(f"c{i}"))
            assert ours(0.2) == []  # nothing before the commit
        assert len(ours(1.0)) == 1
    finally:
        listener.close()
        db.close()


def _option(query: str) -> str:
    from urllib.parse import parse_qs

    return parse_qs(query)["options"][0]


def _configmap(name: str) -> dict:
    return {"metadata": {"name": name, "namespace": "default", "uid": name}, "data": {}}
