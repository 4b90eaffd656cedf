"""The API in-process over a fresh data directory and SQLite database per module (a module
may ask for PostgreSQL too).

Each fuzz module gets its own platform (store, change feed, client) and a starlette
``TestClient`` that does not re-raise server errors, so a crash shows as the 500 a real client
would get. ``ensure_target`` puts back one valid object of a kind (named ``target`` in
namespace ``fuzz``) before an example, so PUT, PATCH and DELETE reach the code behind the
not-found check even after an earlier example deleted or broke the object.
"""

from __future__ import annotations

import warnings

import pytest

with warnings.catch_warnings():
    # starlette nags that its TestClient will move to httpx2; the httpx one is what we have.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from berth.platform.api.app import create_app
from berth.platform.resources import registry
from berth.platform.runtime import open_platform
from berth.settings import Settings
from tests.integration.api.api_fuzz_support import NAMESPACE, TARGET, assert_still_serves, manifest
from tests.support import make_pg_schema, pg_problem


@pytest.fixture(scope="module")
def database() -> str:
    """The database under a module's platform; a module may override this fixture with
    ``params=["sqlite", "postgresql"]``."""
    return "sqlite"


@pytest.fixture(scope="module")
def platform(tmp_path_factory, database):
    data_dir = tmp_path_factory.mktemp(f"api-fuzz-{database}")
    url, drop = f"sqlite:///{data_dir / 'berth.db'}", None
    if database == "postgresql":
        problem = pg_problem()
        if problem:
            pytest.skip(problem)
        url, drop = make_pg_schema()
    plat = open_platform(Settings(data_dir=data_dir, database_url=url))
    plat.ready.set()
    try:
        yield plat
    finally:
        plat.close()
        if drop:
            drop()


@pytest.fixture(scope="module")
def api(platform):
    """A client that turns server exceptions into the 500 answers a real client would see."""
    with TestClient(create_app(platform), raise_server_exceptions=False) as client:
        client.post("/api/v1/namespaces", json=manifest(registry.NAMESPACE, NAMESPACE))
        yield client
        assert_still_serves(client)


@pytest.fixture(scope="module")
def ensure_target(platform, api):
    """Call with a ResourceType to (re)create its valid ``target`` object."""

    def ensure(rt: registry.ResourceType) -> None:
        _revive_namespace(platform)
        current = platform.client.try_get(rt, NAMESPACE, TARGET)
        if current is not None and not current["metadata"].get("deletionTimestamp"):
            return
        if current is not None:  # stuck terminating (no controllers here): remove it raw
            platform.db.delete(rt.key, current["metadata"].get("namespace", ""), TARGET)
        platform.client.create(rt, manifest(rt), NAMESPACE if rt.namespaced else None)

    return ensure


def _revive_namespace(platform) -> None:
    """A hostile DELETE of the namespace collection leaves ``fuzz`` terminating with no
    namespace controller to finish it; take the deletion back in the raw store."""
    for name in (NAMESPACE, "default"):
        ns = platform.client.try_get(registry.NAMESPACE, "", name)
        if ns is None:
            platform.client.create(registry.NAMESPACE, {"metadata": {"name": name}})
        elif ns["metadata"].get("deletionTimestamp"):
            ns["metadata"].pop("deletionTimestamp", None)
            ns["metadata"].pop("deletionGracePeriodSeconds", None)
            ns.setdefault("status", {})["phase"] = "Active"
            platform.db.update(registry.NAMESPACE.key, ns, None, relabel=False)
