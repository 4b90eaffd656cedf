"""One thread that copies every container's output pipe into its log, for the whole process.

A thread of its own per container attempt, blocked in ``read``, costs a thread's start and
exit (and the hand-offs of the interpreter lock around them) for every pod; on a node that
runs many short pods that was a good part of the agent's CPU. Here one epoll over all the
pipes does the reading: each pipe is read when it has data, and at its end of file (every
writer closed it) its log is closed and its ``done`` event set.

Reading one pipe's chunk and writing it to its log is quick (a local file), so one pipe
cannot hold the others up for long.
"""

from __future__ import annotations

import logging
import os
import select
import threading
from dataclasses import dataclass, field

from berth.workers.node.logs import LogWriter

log = logging.getLogger(__name__)

_CHUNK = 64 * 1024


@dataclass
class Stream:
    fd: int
    writer: LogWriter
    done: threading.Event = field(default_factory=threading.Event)  # set once it is closed


class LogPump:
    """Started on first use; a daemon thread, as the per-container threads were."""

    def __init__(self):
        self._streams: dict[int, Stream] = {}
        self._lock = threading.Lock()
        self._epoll: select.epoll | None = None  # made with the thread, on first use

    def add(self, fd: int, writer: LogWriter) -> Stream:
        """Copy ``fd`` (the read end of a pipe, now this pump's to close) into ``writer``
        until end of file, then close both."""
        stream = Stream(fd, writer)
        with self._lock:
            if self._epoll is None:
                self._epoll = select.epoll()
                threading.Thread(
                    target=self._run, args=(self._epoll,), name="log-pump", daemon=True
                ).start()
            self._streams[fd] = stream
            epoll = self._epoll
        epoll.register(fd, select.EPOLLIN)
        return stream

    def _run(self, epoll: select.epoll) -> None:
        while True:
            ready = epoll.poll()
            for fd, _ in ready:
                with self._lock:
                    stream = self._streams.get(fd)
                if stream is not None:
                    self._read(epoll, stream)

    def _read(self, epoll: select.epoll, stream: Stream) -> None:
        try:
            chunk = os.read(stream.fd, _CHUNK)
            if chunk:
                stream.writer.write(chunk)
                return
        except OSError as err:  # a failed read or log write ends this stream, not the pump
            log.warning("container log %s: %s", stream.writer.path, err)
        self._close(epoll, stream)

    def _close(self, epoll: select.epoll, stream: Stream) -> None:
        with self._lock:
            self._streams.pop(stream.fd, None)
        try:
            epoll.unregister(stream.fd)
        finally:
            os.close(stream.fd)
            try:
                stream.writer.close()
            finally:
                stream.done.set()


_PUMP = LogPump()


def pump(fd: int, writer: LogWriter) -> Stream:
    """Copy pipe ``fd`` into ``writer`` on this process's pump thread (see ``LogPump.add``)."""
    return _PUMP.add(fd, writer)
