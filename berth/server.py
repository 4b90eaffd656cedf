"""The composition root of ``berth up``: every part wired here, in one place.

Start order: store and change feed → informers and controllers → (workers: Ray, node agents,
scheduler) → API. ``/readyz`` answers 200 once the informers have synced.
"""

from __future__ import annotations

import logging
import threading
import time

import uvicorn

from berth.platform.api.app import create_app
from berth.platform.controllers.garbage_collector import GarbageCollector
from berth.platform.controllers.informers import InformerHub
from berth.platform.controllers.job.controller import JobController
from berth.platform.controllers.manager import ControllerManager
from berth.platform.controllers.namespace import NamespaceController
from berth.platform.controllers.ttl import TTLAfterFinishedController
from berth.platform.runtime import Platform, open_platform
from berth.scheduler.loop import SchedulerLoop
from berth.workers.service import WorkerService
from berth.workers.simulated import SimulatedKubelet
from berth.settings import Settings

log = logging.getLogger("berth")


class Server:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.platform: Platform | None = None
        self.hub: InformerHub | None = None
        self.manager: ControllerManager | None = None
        self.scheduler: SchedulerLoop | None = None
        self.workers: WorkerService | None = None
        self._uvicorn: uvicorn.Server | None = None

    def start(self) -> Platform:
        platform = self.platform = open_platform(self.settings)
        if self.settings.controllers:
            self.hub = InformerHub(platform.client, platform.feed)
            self.manager = ControllerManager(self.hub)
            self.manager.add(GarbageCollector(platform.client), workers=2)
            self.manager.add(NamespaceController(platform.client))
            self.manager.add(JobController(platform.client, platform.recorder("job-controller")),
                             workers=4)
            self.manager.add(TTLAfterFinishedController(platform.client))
            self.manager.add(SimulatedKubelet(platform.client), workers=4)
            # Built before the hub starts: it registers informer handlers.
            self.scheduler = SchedulerLoop(platform.client, self.hub,
                                           platform.recorder("default-scheduler"),
                                           self.settings)
            if self.settings.workers:
                self.workers = WorkerService(platform, self.hub, self.settings)
                self.workers.register(self.hub)
            self.hub.start()
            self.manager.start()
            self.scheduler.start()
            if self.workers:
                self.workers.start()
            threading.Thread(target=self._mark_ready, daemon=True, name="readiness").start()
        else:
            platform.ready.set()
        return platform

    def _mark_ready(self) -> None:
        self.hub.synced.wait()
        self.platform.ready.set()
        log.info("Berth is ready on http://%s:%d", self.settings.host, self.settings.port)

    def serve(self) -> None:
        """Serve the API until interrupted (Ctrl-C / SIGTERM), then stop everything."""
        platform = self.platform or self.start()
        config = uvicorn.Config(create_app(platform), host=self.settings.host,
                                port=self.settings.port, log_level=self.settings.log_level,
                                access_log=False, timeout_graceful_shutdown=3,
                                lifespan="off")
        self._uvicorn = _Uvicorn(config, on_exit=platform.feed.close_watches)
        try:
            self._uvicorn.run()
        except KeyboardInterrupt:
            pass  # uvicorn re-raises the Ctrl-C it already handled; a clean stop follows
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop every part, workers first (they call the store); each step is timed in the
        log, so a slow stop says which part held it."""
        started = time.monotonic()
        for name, stop in (("workers", self.workers and self.workers.stop),
                           ("scheduler", self.scheduler and self.scheduler.stop),
                           ("controllers", self.manager and self.manager.stop),
                           ("informers", self.hub and self.hub.stop),
                           ("store", self.platform and self.platform.close)):
            if not stop:
                continue
            step = time.monotonic()
            stop()
            log.info("stopped %s in %.2f s", name, time.monotonic() - step)
        log.info("Berth stopped in %.1f s", time.monotonic() - started)


class _Uvicorn(uvicorn.Server):
    """uvicorn that ends the watch streams as soon as it is told to stop: otherwise each open
    watch (kubectl get -w, every informer of a client) holds the shutdown for the whole
    graceful timeout."""

    def __init__(self, config: uvicorn.Config, on_exit):
        super().__init__(config)
        self._on_exit = on_exit

    def handle_exit(self, sig, frame) -> None:
        self._on_exit()
        super().handle_exit(sig, frame)
