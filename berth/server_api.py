"""The API process of embedded ``berth up``: started, watched and stopped by the controller
process (``berth.server``), and its entry point.

Why a process: in one process the API shares one interpreter lock with the informers, the
controllers, the scheduler and the kubelet's loops, and under load a GET waited hundreds of
milliseconds for it. The API process is ``--role api`` with three differences: it serves the
port ``berth up`` was given, it answers health, ``/metrics`` and pod logs through the controller
process on a loopback port (``platform.api.forward``), and a ``store.link`` tells each side's
change feed of the other's commits at once. Its settings arrive on stdin (they may carry the
encryption key, which must not show in ``ps``). It stops when told (SIGTERM), and on its own
when the link closes (the controller process is gone, however it ended).
"""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys

import orjson

from berth.platform.api.app import create_app
from berth.platform.api.forward import ControllerProcess
from berth.platform.interpreter import freeze_startup_heap
from berth.platform.leave import leave
from berth.platform.metrics.series import Metrics
from berth.platform.runtime import open_platform
from berth.platform.store.link import FeedLink
from berth.server_http import HttpServer
from berth.settings import Settings

log = logging.getLogger("berth")

_STOP_WAIT_S = 4.0
# What the child runs, after the interpreter; then the link's fd and the controllers' URL.
# ``benchmarks.e2e_profile`` puts its sampling profiler in front of this module's ``main``.
ENTRY = ["-m", "berth.server_api"]
# The fewest seconds between two reads of the change log (the change feed's ``pace``). Each
# read is a query, and every watch stream then takes its turn on the event loop and a worker
# thread: under load the controller process commits a hundred times a second or more, this
# process once per POST, and reading the log at each of those commits, not the requests, was
# most of this process's CPU. The commits of a gap are read together, and a watcher sees
# them, in the store's order, at most a gap later. Once only the controller process's nudges
# (through the link) were paced: on PostgreSQL, whose notifications wake the feed directly,
# the feed's thread read the log at every commit of either process (2.4 s of the API
# process's 14.7 s of CPU in a profiled 1,000-Job run).
NUDGE_GAP_S = 0.02
# How long a thread may hold the interpreter lock while another waits for it (Python's
# default is 5 ms). Here the event loop, which answers every GET, competes with the worker
# threads decoding, validating and storing POSTed objects and with the change feed's thread:
# each hand-over of a request (loop -> worker -> loop) could wait out a whole interval per
# busy thread, and a GET waited tens of milliseconds behind a burst of POSTs.
SWITCH_INTERVAL_S = 0.001


class ApiProcess:
    """The child process, seen from the controller process."""

    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.stopping = False

    @classmethod
    def spawn(
        cls,
        settings: Settings,
        controllers_url: str,
        link_end: socket.socket,
        listening: socket.socket,
    ) -> ApiProcess:
        """Start the API process with the link's end and the API's port (``listening``,
        already bound: ``server_http.listening_socket``), both of which it takes over."""
        fd, port_fd = link_end.fileno(), listening.fileno()
        process = subprocess.Popen(
            [sys.executable, *ENTRY, str(fd), controllers_url, str(port_fd)],
            stdin=subprocess.PIPE,
            pass_fds=[fd, port_fd],
        )
        link_end.close()  # the child holds its own copy; ours would keep the link open
        listening.close()  # connections to the port are the child's to accept
        assert process.stdin is not None
        process.stdin.write(settings.model_dump_json().encode())
        process.stdin.close()
        log.info("the API is served by process %d", process.pid)
        return cls(process)

    def signal_stop(self) -> None:
        """Begin stopping (returns at once; ``stop`` waits). Once: a second SIGTERM would
        cut the API process's own clean stop short."""
        if not self.stopping and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.stopping = True

    def stop(self) -> int | None:
        self.signal_stop()
        try:
            return self.process.wait(timeout=_STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            log.warning("the API process did not stop in %.0f s: killed", _STOP_WAIT_S)
            self.process.kill()
            return self.process.wait(timeout=5)


def api_settings(values: dict) -> Settings:
    """The controller process's settings, as the API process runs them: the API only, and no
    Ray of its own (pod logs come through the controller process)."""
    return Settings(**{**values, "role": "api", "workers": False, "api_process": False})


def main(argv: list[str]) -> None:
    fd, controllers_url, port_fd = int(argv[0]), argv[1], int(argv[2])
    settings = api_settings(orjson.loads(sys.stdin.buffer.read()))
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per forwarded request
    # A terminal's Ctrl-C reaches the whole process group: while starting, leave it to the
    # controller process, which stops this one (SIGTERM) as it stops itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    platform = open_platform(settings, feed_pace=NUDGE_GAP_S)
    platform.ready.set()
    link = FeedLink.from_fd(fd)
    http = HttpServer(
        create_app(platform, Metrics(), ControllerProcess(controllers_url)),
        settings,
        on_exit=platform.feed.close_watches,
    )

    def controllers_gone() -> None:
        if not http.stopping:
            log.error("the controller process of berth up has exited: stopping")
            http.stop_soon()

    platform.db.on_commit.append(link.notify)
    link.start(platform.feed.nudge, controllers_gone)
    freeze_startup_heap()  # its ~117,000 start-up objects: full collections of 67-156 ms
    try:
        http.run([socket.socket(fileno=port_fd)])
    finally:
        link.close()
        platform.close()
    leave(0)


if __name__ == "__main__":
    main(sys.argv[1:])
