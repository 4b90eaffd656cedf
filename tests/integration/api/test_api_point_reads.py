"""GET of one object: read on the event loop (SQLite) or in a worker thread (PostgreSQL, or
while the SQLite pool has no connection to give at once), with the same answer either way."""

from __future__ import annotations

import asyncio
import threading

import pytest

from berth.platform.api import point_reads
from berth.platform.errors import NotFound
from berth.platform.resources import registry
from tests.integration.api.api_fuzz_support import NAMESPACE


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request) -> str:
    return request.param


def _config_map(platform, name: str, value: str) -> dict:
    if platform.client.try_get(registry.NAMESPACE, "", NAMESPACE) is None:
        platform.client.create(registry.NAMESPACE, {"metadata": {"name": NAMESPACE}})
    return platform.client.create(
        registry.CONFIG_MAP, {"metadata": {"name": name}, "data": {"k": value}}, NAMESPACE
    )


def _get(platform, name: str) -> tuple[dict, bool]:
    """The object, and whether the read ran on the event loop's own thread."""
    loop_thread: list[int] = []
    read_thread: list[int] = []
    client_get = platform.client.get

    def recording_get(*args):
        read_thread.append(threading.get_ident())
        return client_get(*args)

    async def main() -> dict:
        loop_thread.append(threading.get_ident())
        return await point_reads.get_object(platform, registry.CONFIG_MAP, NAMESPACE, name)

    platform.client.get = recording_get
    try:
        obj = asyncio.run(main())
    finally:
        del platform.client.get
    return obj, read_thread == loop_thread


def test_get_answers_the_stored_object_and_its_newest_version(platform):
    created = _config_map(platform, "point-a", "1")
    obj, _ = _get(platform, "point-a")
    assert obj == created
    updated = platform.client.update(
        registry.CONFIG_MAP, {**created, "data": {"k": "2"}}, NAMESPACE, "point-a"
    )
    obj, on_loop = _get(platform, "point-a")
    assert obj["data"] == {"k": "2"}
    assert obj["metadata"]["resourceVersion"] == updated["metadata"]["resourceVersion"]
    assert on_loop == platform.db.dialect.is_sqlite


def test_get_of_a_missing_object_is_not_found(platform):
    with pytest.raises(NotFound):
        _get(platform, "point-missing")


def test_get_waits_in_a_thread_while_the_pool_has_no_free_connection(platform, database):
    if database != "sqlite":
        pytest.skip("PostgreSQL reads always run in a worker thread")
    _config_map(platform, "point-b", "1")
    pool = platform.db.engine.pool
    held = [platform.db.engine.connect() for _ in range(pool.size())]
    try:
        assert pool.checkedin() == 0
        obj, on_loop = _get(platform, "point-b")
        assert obj["data"] == {"k": "1"}
        assert not on_loop
    finally:
        for conn in held:
            conn.close()
    _, on_loop = _get(platform, "point-b")
    assert on_loop
