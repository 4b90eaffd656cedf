"""The composition root of ``berth up``: every part wired here, in one place.

Start order: store and change feed → leader election → (while this process holds the controller
lease) informers and controllers → workers: Ray, node agents, scheduler → API. The controller
side is built afresh for every term of leadership and stopped when the term ends, so of several
``berth up`` processes on one database exactly one runs controllers; the others serve the API.
``/readyz`` answers 200 once the API can serve (a leader: once its informers have synced).

``settings.role`` splits the process: ``api`` serves the Kubernetes API only (no election, no
controllers), ``controller`` stands for election and serves health and ``/metrics`` on the port
instead of the API, ``all`` (the default) does both: the API from a second process of its own
(``berth.server_api``, unless ``api_process`` is off), which this one starts, serves health,
metrics and pod logs on a loopback port, and stops.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

from berth.platform.api.app import create_app, create_ops_app
from berth.platform.cache.informers import InformerHub
from berth.platform.controllers.cronjob.controller import CronJobController
from berth.platform.controllers.garbage_collector import GarbageCollector
from berth.platform.controllers.job.controller import JobController
from berth.platform.controllers.leader import LeaderElector, LeaseTiming, new_identity
from berth.platform.controllers.manager import ControllerManager
from berth.platform.controllers.namespace import NamespaceController
from berth.platform.controllers.ttl import TTLAfterFinishedController
from berth.platform.controllers.volume.binder import VolumeBinder
from berth.platform.controllers.volume.provisioner import LocalPathProvisioner, ensure_default_class
from berth.platform.interpreter import freeze_startup_heap
from berth.platform.metrics import Metrics, unwatch, watch_cluster, watch_node_usage
from berth.platform.runtime import Platform, open_platform
from berth.platform.store.client import Client
from berth.platform.store.lease import Fence, FencedDatabase, LeaseStore
from berth.platform.store.link import FeedLink, pair
from berth.scheduler.loop import SchedulerLoop
from berth.server_api import ApiProcess
from berth.server_http import HttpServer, listening_socket, loopback_socket
from berth.settings import Settings
from berth.workers.control.gpu_allocation import GpuAllocationReporter
from berth.workers.control.remote_logs import serve_logs_from_ray
from berth.workers.control.service import WorkerService
from berth.workers.control.simulated import SimulatedKubelet

log = logging.getLogger("berth")


class ControlSide:
    """Everything that must run in one process only: informers, controllers, scheduler,
    workers. One instance per term of leadership. With a ``fence`` (leader election on) the
    controllers and the scheduler write through a client fenced by the term: once another
    process has taken the lease, their writes are refused (a cron run, a pod, a binding is
    made by the current leader or not at all), until this side is stopped."""

    def __init__(
        self, platform: Platform, settings: Settings, fence: Fence | None, metrics: Metrics
    ):
        self.platform, self.settings, self.fence = platform, settings, fence
        self.metrics = metrics
        client = (
            Client(FencedDatabase(platform.db, fence), clock=platform.client.clock)
            if fence
            else platform.client
        )
        self.hub = InformerHub(platform.client, platform.feed)
        self.manager = ControllerManager(self.hub)
        self.manager.add(GarbageCollector(client), workers=2)
        self.manager.add(NamespaceController(client))
        self.manager.add(JobController(client, platform.recorder("job-controller")), workers=4)
        self.manager.add(TTLAfterFinishedController(client))
        ensure_default_class(client)
        # Fenced: a deposed term must not provision or reclaim a volume a second time.
        self.manager.add(
            VolumeBinder(
                client,
                platform.recorder("persistentvolume-controller"),
                LocalPathProvisioner(settings.resolved_volume_root),
            ),
            workers=2,
        )
        self.manager.add(SimulatedKubelet(client), workers=4)
        # Per-device GPU allocation on every node, for `kubectl describe node`.
        self.manager.add(GpuAllocationReporter(client), workers=2)
        self.cronjobs = CronJobController(
            client, platform.recorder("cronjob-controller"), observers=[metrics.observe_cron]
        )
        self.manager.add(self.cronjobs, workers=4)
        # Built before the hub starts: it registers informer handlers.
        self.scheduler = SchedulerLoop(
            client, self.hub, platform.recorder("default-scheduler"), settings
        )
        self.workers: WorkerService | None = None
        if settings.workers:
            self.workers = WorkerService(platform, self.hub, settings)
            self.workers.register(self.hub)
            # A pod's place is free once its node saw it end, before the store shows it.
            self.workers.kubelet.on_pods_ended(self.scheduler.pods_ended)
        self.collectors = watch_cluster(metrics, self.hub, self.scheduler)

    def start(self) -> None:
        self.hub.start()
        self.manager.start()
        self.scheduler.start()
        if self.workers:
            self.workers.start()
            self.collectors.append(
                watch_node_usage(
                    self.metrics, self.workers.kubelet, self.settings.node_usage_period_s
                )
            )
        for name, check in self.manager.checks().items():
            self.platform.health.add(name, check)
        self.platform.health.add("scheduler", self._scheduler_health)

    def _scheduler_health(self) -> tuple[bool, str]:
        return (True, "running") if self.scheduler.running else (False, "not running")

    def stop(self) -> None:
        for name in [*self.manager.checks(), "scheduler"]:
            self.platform.health.remove(name)
        unwatch(self.metrics, self.collectors)
        if self.workers:
            _timed("workers", self.workers.stop)
        _timed("scheduler", self.scheduler.stop)
        _timed("controllers", self.manager.stop)
        _timed("informers", self.hub.stop)


class Server:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.link: FeedLink | None = None
        self.api: ApiProcess | None = None
        self.exit_code = 0
        self.platform: Platform | None = None
        self.control: ControlSide | None = None
        self.elector: LeaderElector | None = None
        self._control_lock = threading.Lock()
        self.metrics = Metrics()
        self._control_error: Exception | None = None
        self._http: HttpServer | None = None
        self._sockets: list[socket.socket] | None = None  # the loopback port, when split

    @property
    def splits(self) -> bool:
        """The API is served by a process of its own, which this one starts."""
        s = self.settings
        return s.runs_api and s.runs_controllers and s.api_process

    def start(self) -> Platform:
        # The API's port first, so that nothing started after can be given it (and a port
        # that is taken stops berth up here, before the store opens and Ray starts).
        listening = (
            listening_socket(self.settings.host, self.settings.port) if self.splits else None
        )
        platform = self.platform = open_platform(self.settings)
        if listening is not None:
            # Before Ray and the controllers: the API process starts while they do.
            self._start_api_process(platform, listening)
        try:
            return self._start_control_side(platform)
        except BaseException:
            if self.api is not None:
                self.api.stop()
            raise

    def _start_api_process(self, platform: Platform, listening: socket.socket) -> None:
        self._sockets = [loopback_socket()]
        ours, theirs = pair()
        self.link = FeedLink(ours)
        platform.db.on_commit.append(self.link.notify)
        self.link.start(platform.feed.nudge, self._api_process_gone)
        url = f"http://127.0.0.1:{self._sockets[0].getsockname()[1]}"
        self.api = ApiProcess.spawn(self.settings, url, theirs, listening)

    def _start_control_side(self, platform: Platform) -> Platform:
        if not self.settings.runs_controllers:
            if self.settings.workers and self.settings.ray_address:
                serve_logs_from_ray(platform, self.settings)
            platform.ready.set()
            return platform
        if not self.settings.leader_elect:
            self._start_control(None)
            if self._control_error is not None:
                raise self._control_error
            return platform
        s = self.settings
        self.elector = LeaderElector(
            LeaseStore(platform.db),
            new_identity(),
            on_started=self._start_control,
            on_stopped=self._stop_control,
            timing=LeaseTiming(
                s.lease_duration_s, s.lease_renew_deadline_s, s.lease_retry_period_s
            ),
        )
        platform.health.add("leader-election", self._leader_health)
        self.elector.start()
        self.elector.wait_settled()
        if self._control_error is not None:
            # The first term could not start its controllers: fail loudly, as berth up does
            # without leader election (a later term's failure shows in /readyz instead).
            self.elector.stop()
            raise self._control_error
        if not self.elector.state().leading:
            log.info("standing by: the controllers run in %s", self.elector.state().holder)
            platform.ready.set()
        return platform

    def _leader_health(self) -> tuple[bool, str]:
        if self.elector is None:
            return False, "leader election has not started"
        state = self.elector.state()
        if state.leading:
            return True, f"leading (term {state.token}): controllers run here"
        return True, f"standby: controllers run in {state.holder or 'no process yet'}"

    def _start_control(self, fence: Fence | None) -> None:
        platform = self._started()
        with self._control_lock:
            if self.control is not None:
                return
            try:
                control = ControlSide(platform, self.settings, fence, self.metrics)
                control.start()
            except Exception as exc:
                log.exception("the controllers could not start")
                self._control_error = exc
                why = f"could not start: {type(exc).__name__}: {exc}"
                platform.health.add("controllers", lambda: (False, why))
                return
            self.control = control
            platform.health.remove("controllers")
            self.metrics.leader.set(1)
            threading.Thread(
                target=self._mark_ready, args=(self.control,), daemon=True, name="readiness"
            ).start()

    def _started(self) -> Platform:
        if self.platform is None:
            raise RuntimeError("the server is not started (start() first)")
        return self.platform

    def _stop_control(self) -> None:
        with self._control_lock:
            control, self.control = self.control, None
            self.metrics.leader.set(0)
            if control is not None:
                log.info("stopping the controllers")
                control.stop()

    def _mark_ready(self, control: ControlSide) -> None:
        control.hub.synced.wait()
        frozen = freeze_startup_heap()
        log.debug("%d objects of start-up frozen out of garbage collection", frozen)
        control.platform.ready.set()
        log.info("Berth is ready on http://%s:%d", self.settings.host, self.settings.port)

    def serve(self) -> None:
        """Serve until interrupted (Ctrl-C / SIGTERM), then stop everything. In role ``all``
        with ``api_process`` (the default) the API is served by a process of its own
        (``berth.server_api``), and this one serves that process health, metrics and pod
        logs on a loopback port."""
        platform = self.platform or self.start()
        app = (
            create_app(platform, self.metrics)
            if self.settings.runs_api
            else create_ops_app(platform, self.metrics)
        )
        self._http = HttpServer(app, self.settings, on_exit=self._on_exit)
        if self.exit_code:  # the API process died while this one started
            self._http.stop_soon()
        try:
            self._http.run(self._sockets)
        finally:
            self.stop()
        if self.exit_code:
            raise SystemExit(self.exit_code)

    def _api_process_gone(self) -> None:
        if self.api is None or self.api.stopping:
            return
        log.error("the API process of berth up has exited: stopping")
        self.exit_code = 1
        if self._http is not None:
            self._http.stop_soon()

    def _on_exit(self) -> None:
        if self.api is not None:
            self.api.signal_stop()  # it stops while this process does; stop() waits for it
        if self.platform is not None:
            self.platform.feed.close_watches()

    def stop(self) -> None:
        """Stop every part, workers first (they call the store); each step is timed in the
        log, so a slow stop says which part held it."""
        started = time.monotonic()
        if self.api is not None:
            code = _timed("API process", self.api.stop)
            if code not in (0, None) and not self.exit_code:
                log.error("the API process exited with code %s", code)
        if self.link is not None:
            self.link.close()
        if self.elector:
            self.elector.stop()
        self._stop_control()
        if self.platform:
            _timed("store", self.platform.close)
        log.info("Berth stopped in %.1f s", time.monotonic() - started)


def _timed(name: str, stop):
    step = time.monotonic()
    result = stop()
    log.info("stopped %s in %.2f s", name, time.monotonic() - step)
    return result
