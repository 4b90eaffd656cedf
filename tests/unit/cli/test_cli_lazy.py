"""The ``berth`` commands load only what they need: a client command never imports the server
(FastAPI, Ray, the store's SQLAlchemy), which is what made every command take ~2 s to start."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from berth.cli.main import COMMANDS

SERVER_ONLY = (
    "ray",
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "sqlmodel",
    "psycopg",
    "berth.server",
    "berth.platform.api.app",
    "berth.platform.store.db",
)


def loaded_after(*argv: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``berth argv`` (or only importing
    the entry point when argv is empty)."""
    script = (
        "import json, sys\n"
        f"sys.argv = ['berth', *{list(argv)!r}]\n"
        "from berth.cli.main import app\n"
        "try:\n"
        "    app() if len(sys.argv) > 1 else None\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('\\nMODULES' + json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    ).stdout
    return set(json.loads(out.rsplit("MODULES", 1)[1]))


def server_modules(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == s or m.startswith(s + ".") for s in SERVER_ONLY))


@pytest.mark.parametrize(
    "argv",
    [
        (),
        ("--help",),
        ("get", "--help"),
        ("kubeconfig", "--help"),
        ("kubeconfig", "--server", "http://berth:1"),
        ("get", "jobs", "--server", "http://127.0.0.1:1"),
        ("describe", "job", "j", "--server", "http://127.0.0.1:1"),
        ("delete", "job", "j", "--server", "http://127.0.0.1:1"),
        ("run", "--help"),
        ("run", "--server", "http://127.0.0.1:1", "--", "true"),
        ("logs", "--help"),
        ("logs", "job/j", "--server", "http://127.0.0.1:1"),
    ],
)
def test_client_commands_never_import_the_server(argv):
    assert server_modules(loaded_after(*argv)) == []


# Heavy client-side imports a piped client command does without (CPU of each start, at load
# ~5: httpx 140-200 ms with the click, rich and pygments its own CLI pulls in; typer 0.29's
# pydantic coercion of every parameter ~220 ms; rich's console ~70 ms).
SLOW_TO_IMPORT = ("httpx", "pydantic", "rich")


@pytest.mark.parametrize(
    "argv",
    [
        ("get", "jobs", "--server", "http://127.0.0.1:1"),
        ("describe", "job", "j", "--server", "http://127.0.0.1:1"),
        ("run", "--server", "http://127.0.0.1:1", "--", "true"),
        ("logs", "job/j", "--server", "http://127.0.0.1:1"),
    ],
)
def test_piped_client_commands_load_no_http_library_pydantic_or_rich(argv):
    loaded = loaded_after(*argv)
    slow = sorted(m for m in loaded if m.split(".")[0] in SLOW_TO_IMPORT)
    assert slow == []
    assert "berth.cli.apiclient" in loaded  # the command did get as far as its client


def test_up_loads_the_server_only_once_it_runs():
    # The check above can fail: ``up`` with options parsed imports the server module (here it
    # stops at once on a role that does not exist), and it shows; ``up --help`` does not.
    assert "berth.server" in server_modules(loaded_after("up", "--role", "no-such-role"))
    assert server_modules(loaded_after("up", "--help")) == []


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_listed_summary_is_the_commands_own_first_line(name):
    entry = COMMANDS[name]
    function = getattr(importlib.import_module(entry.module), entry.function)
    assert entry.summary == function.__doc__.strip().splitlines()[0].strip()
