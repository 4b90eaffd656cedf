"""The PostgreSQL listener keeps trying while the server cannot be reached: the feed polls at
its own interval meanwhile (``on_listening(False)`` after each failed try)."""

from __future__ import annotations

import socket

import pytest

from berth.platform.store.dialect import Dialect
from berth.platform.store.pg_listen import ChangeListener
from tests.support import wait_for


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket is closed


def test_a_listener_that_cannot_connect_reports_it_and_tries_again():
    states: list[bool] = []
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/test?connect_timeout=2"
    listener = ChangeListener(Dialect(url), lambda: None, states.append).start()
    try:
        wait_for(lambda: len(states) >= 2, what="two failed tries")
        assert not listener.listening.is_set()
        assert set(states) == {False}
    finally:
        listener.stop()


def test_sqlite_has_no_listener():
    with pytest.raises(ValueError, match="PostgreSQL"):
        ChangeListener(Dialect("sqlite:///unused.db"), lambda: None, lambda _on: None)
