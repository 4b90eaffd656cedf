"""uvicorn as ``berth up``'s processes run it: until Ctrl-C or SIGTERM, ending the watch
streams at once when told to stop."""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from berth.settings import Settings


class HttpServer:
    def __init__(self, app: FastAPI, settings: Settings, on_exit: Callable[[], None]):
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            access_log=False,
            # The C parser: h11, the default, is pure Python and cost about twice the CPU
            # per request and per watch event.
            http="httptools",
            timeout_graceful_shutdown=3,
            lifespan="off",
        )
        self._server = _Uvicorn(config, on_exit=on_exit)

    def run(self, sockets: list[socket.socket] | None = None) -> None:
        """Serve until stopped (on ``settings.port``, or on ``sockets`` already bound)."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _interrupt)
        try:
            self._server.run(sockets=sockets)
        except KeyboardInterrupt:
            pass  # uvicorn re-raises the Ctrl-C it already handled; a clean stop follows

    @property
    def stopping(self) -> bool:
        return self._server.should_exit

    def stop_soon(self) -> None:
        """Stop as on SIGTERM (from any thread)."""
        self._server.handle_exit(signal.SIGTERM, None)


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket listening on ``host``:``port``, as uvicorn binds its own: ``berth up`` takes
    its API port first thing, before Ray and the controllers start, and hands the socket to
    its API process. Bound later, by the API process once it had started, the port was free
    for seconds in between, and the controller process's own connections (to Ray) could be
    given it as their local port: the API then failed to bind ("address already in use",
    seen once in a full test run). A port that is taken fails ``berth up`` at once, saying
    which."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)  # uvicorn's default backlog
    except OSError as exc:
        sock.close()
        raise PortTaken(f"berth up cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.set_inheritable(False)
    return sock


class PortTaken(RuntimeError):
    """The API's port could not be bound (taken, or not an address of this machine)."""


def loopback_socket() -> socket.socket:
    """A listening socket on a free loopback port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def _interrupt(_sig, _frame) -> None:
    """SIGTERM as Ctrl-C: uvicorn re-raises the signal it handled once it has shut down, and
    with the default handler that would end the process before ``Server.stop`` (a private Ray
    head left running, the controller lease held until it expires)."""
    raise KeyboardInterrupt


class _Uvicorn(uvicorn.Server):
    """uvicorn that ends the watch streams as soon as it is told to stop: otherwise each open
    watch (kubectl get -w, every informer of a client) holds the shutdown for the whole
    graceful timeout."""

    def __init__(self, config: uvicorn.Config, on_exit: Callable[[], None]):
        super().__init__(config)
        self._on_exit = on_exit

    def handle_exit(self, sig, frame) -> None:
        self._on_exit()
        super().handle_exit(sig, frame)
