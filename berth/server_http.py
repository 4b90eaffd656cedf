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
