"""The composition root of ``berth up``: every part wired here, in one place.

Start order: store and change feed → leader election → (while this process holds the controller
lease) informers and controllers → workers: Ray, node agents, scheduler → API. The controller
side is built afresh for every term of leadership and stopped when the term ends, so of several
``berth up`` processes on one database exactly one runs controllers; the others serve the API.
``/readyz`` answers 200 once the API can serve (a leader: once its informers have synced).

``settings.role`` splits the process: ``api`` serves the Kubernetes API only (no election, no
controllers), ``controller`` stands for election and serves health and ``/metrics`` on the port
instead of the API, ``all`` (the default) does both.
"""

from __future__ import annotations

import logging
import signal
import threading
import time

import uvicorn

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
from berth.platform.metrics import Metrics, unwatch, watch_cluster, watch_node_usage
from berth.platform.runtime import Platform, open_platform
from berth.platform.store.client import Client
from berth.platform.store.lease import Fence, FencedDatabase, LeaseStore
from berth.scheduler.loop import SchedulerLoop
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
        self.platform: Platform | None = None
        self.control: ControlSide | None = None
        self.elector: LeaderElector | None = None
        self._control_lock = threading.Lock()
        self.metrics = Metrics()
        self._control_error: Exception | None = None
        self._uvicorn: uvicorn.Server | None = None

    def start(self) -> Platform:
        platform = self.platform = open_platform(self.settings)
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
        control.platform.ready.set()
        log.info("Berth is ready on http://%s:%d", self.settings.host, self.settings.port)

    def serve(self) -> None:
        """Serve the API until interrupted (Ctrl-C / SIGTERM), then stop everything."""
        platform = self.platform or self.start()
        app = (
            create_app(platform, self.metrics)
            if self.settings.runs_api
            else create_ops_app(platform, self.metrics)
        )
        config = uvicorn.Config(
            app,
            host=self.settings.host,
            port=self.settings.port,
            log_level=self.settings.log_level,
            access_log=False,
            timeout_graceful_shutdown=3,
            lifespan="off",
        )
        self._uvicorn = _Uvicorn(config, on_exit=platform.feed.close_watches)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _interrupt)
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
        if self.elector:
            self.elector.stop()
        self._stop_control()
        if self.platform:
            _timed("store", self.platform.close)
        log.info("Berth stopped in %.1f s", time.monotonic() - started)


def _timed(name: str, stop) -> None:
    step = time.monotonic()
    stop()
    log.info("stopped %s in %.2f s", name, time.monotonic() - step)


def _interrupt(_sig, _frame) -> None:
    """SIGTERM as Ctrl-C: uvicorn re-raises the signal it handled once it has shut down, and
    with the default handler that would end the process before ``Server.stop`` (a private Ray
    head left running, the controller lease held until it expires)."""
    raise KeyboardInterrupt


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
