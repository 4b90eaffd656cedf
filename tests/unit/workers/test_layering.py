"""The workers' two sides, as the tree shows them: the node side (``berth/workers/node/``) runs
inside Ray on each node and never touches the store; the control side talks to the store.
These tests read the imports of every module, so a node module that starts reading the store
fails here, not in production on a node without the database."""

from __future__ import annotations

import ast
from pathlib import Path

import berth.workers

WORKERS = Path(berth.workers.__file__).parent
# What a module running on a node must never import: the store and what is built on it.
FORBIDDEN = (
    "berth.platform.store",
    "berth.platform.controllers",
    "berth.platform.api",
    "berth.platform.cache",
    "berth.platform.runtime",
    "berth.scheduler",
    "berth.workers.control",
    "berth.server",
    "sqlalchemy",
    "sqlmodel",
)


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def forbidden(names: set[str]) -> list[str]:
    return sorted(n for n in names if any(n == f or n.startswith(f + ".") for f in FORBIDDEN))


def test_node_side_never_imports_the_store():
    modules = sorted((WORKERS / "node").glob("*.py"))
    assert len(modules) > 10
    offenders = {m.name: bad for m in modules if (bad := forbidden(imports_of(m)))}
    assert offenders == {}


def test_shared_contract_modules_never_import_the_store():
    for name in ("bundle.py", "starting.py", "status.py"):
        assert forbidden(imports_of(WORKERS / name)) == [], name


def test_every_worker_module_is_on_a_side():
    loose = sorted(p.name for p in WORKERS.glob("*.py"))
    assert loose == ["__init__.py", "bundle.py", "starting.py", "status.py"]


def test_the_check_sees_a_store_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from berth.platform.store.client import Client\nimport sqlalchemy\n")
    assert forbidden(imports_of(bad)) == [
        "berth.platform.store.client",
        "berth.platform.store.client.Client",
        "sqlalchemy",
    ]
