"""Two processes on one database telling each other "I committed", so that each one's change
feed reads the other's writes at once instead of at its next poll (``ChangeFeed.poll_interval``).

``berth up`` serves the API from a process of its own beside the controllers (see
``berth.server``): a Job POSTed to the API must wake the job controller in the other process
now, and a pod status the kubelet writes must reach the API's watchers now. The two ends of a
``socketpair`` carry one byte per commit; the receiving side only wakes its feed, which then
reads the change log as it always does, so the order and content of what watchers see is the
store's, never the link's. A lost byte (a full socket buffer) costs at most one poll interval.
The link closing tells a process that its partner is gone.

Nudges are coalesced on both sides: a commit only sets an event, and a sender thread sends one
byte per wake-up (a group commit of fifty writes is one byte, not fifty system calls, each of
which would give up the interpreter lock); the receiver reads whatever has arrived before it
wakes its feed once.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

_NUDGE = b"\x01"


def pair() -> tuple[socket.socket, socket.socket]:
    """Two connected ends: keep one, hand the other's file descriptor to the child process."""
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)


class FeedLink:
    """One end of the link. ``notify`` (a ``Database.on_commit`` hook) tells the partner;
    ``start(on_nudge, on_closed)`` calls ``on_nudge`` for each of the partner's commits, on a
    thread of its own, and ``on_closed`` once when the partner's end is closed."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self._thread: threading.Thread | None = None
        self._pending = threading.Event()
        self._closed = False

    @classmethod
    def from_fd(cls, fd: int) -> FeedLink:
        return cls(socket.socket(fileno=fd))

    def notify(self, _rv: int = 0) -> None:
        self._pending.set()

    def start(self, on_nudge: Callable[[], None], on_closed: Callable[[], None]) -> FeedLink:
        self._thread = threading.Thread(
            target=self._listen, args=(on_nudge, on_closed), name="feed-link", daemon=True
        )
        self._thread.start()
        threading.Thread(target=self._send, name="feed-link-send", daemon=True).start()
        return self

    def _send(self) -> None:
        while True:
            self._pending.wait()
            self._pending.clear()
            if self._closed:
                return
            try:
                self.sock.send(_NUDGE, socket.MSG_DONTWAIT)
            except BlockingIOError:
                pass  # the partner has unread nudges: it reads the log when it gets to them
            except OSError:
                return  # gone

    def _listen(self, on_nudge: Callable[[], None], on_closed: Callable[[], None]) -> None:
        while True:
            try:
                data = self.sock.recv(64)
                while data:  # everything already here wakes the feed once
                    data = self.sock.recv(64, socket.MSG_DONTWAIT)
            except BlockingIOError:
                data = _NUDGE
            except OSError:
                data = b""
            if not data:
                on_closed()
                return
            on_nudge()

    def close(self) -> None:
        self._closed = True
        self._pending.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
