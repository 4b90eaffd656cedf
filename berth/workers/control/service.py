"""The worker service: Ray, its nodes and their agents, wired to the control plane.

Use from the composition root::

    workers = WorkerService(platform, hub, settings)
    workers.register(hub)   # before hub.start(): the informers it reads
    hub.start()
    workers.start()         # Ray, node sync, kubelet; platform.logs now reads from the agents
    ...
    workers.stop()

Ray: with ``ray_address`` unset a private head is started under ``<data_dir>/ray`` (or found
running there: pods survive a restart of the control plane); with it set, that cluster is
joined and never stopped. A process that is already a Ray driver (a test) keeps its
connection. On ``stop()`` the driver disconnects; the private head is stopped too unless
``ray_keep_running`` (a crash never runs ``stop()``, so the next start finds it).

One thread ("ray-nodes") looks at ``ray.nodes()`` every ``node_sync_period_s``: it starts an
agent on each new live node, tells the kubelet which agents are live, and lets ``NodeSync``
bring the Node objects (and node losses) up to date.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

# Ray's serializer imports pydantic.v1 lazily from whichever thread serializes first; two
# threads doing so at once race in the import system (KeyError: 'pydantic.v1'). Import it
# here, once, in the thread that builds the service.
import pydantic.v1  # noqa: F401
import ray
import ray.exceptions

from berth.platform.cache.informers import InformerHub
from berth.platform.logs import NoLogs
from berth.platform.runtime import Platform
from berth.settings import Settings
from berth.workers.control import local_ray, pool
from berth.workers.control.kubelet import AgentRef, KubeletSync
from berth.workers.control.logsource import RayLogSource
from berth.workers.control.lookups import Lookups
from berth.workers.control.nodes import NodeSync
from berth.workers.control.simulated import SIMULATED_LABEL

log = logging.getLogger(__name__)

RAY_DIR = "ray"
_AGENT_ANSWER_S = 30.0


class WorkerService:
    def __init__(self, platform: Platform, hub: InformerHub, settings: Settings | None = None):
        self.platform = platform
        self.hub = hub
        self.settings = settings or platform.settings
        data_dir = Path(self.settings.data_dir).resolve()
        self.data_dir = data_dir
        self.node_root = Path(self.settings.node_root or data_dir / "nodes")
        self.ray_temp = data_dir / RAY_DIR
        self.lookups = Lookups()
        self.kubelet = KubeletSync(
            platform.client, self.settings, self.lookups, recorder=platform.recorder("kubelet")
        )
        self.nodes: NodeSync | None = None
        self._started_ray = False  # this service started the private head
        self._connected = False  # this service made this process a Ray driver
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runtimes: dict[str, dict] = {}  # Ray node id -> its agent's sandbox report
        self._runtime_calls: dict[object, str] = {}

    # -- lifecycle ------------------------------------------------------------------------
    def register(self, hub: InformerHub | None = None) -> None:
        hub = hub or self.hub
        self.lookups.register(hub)
        self.kubelet.register(hub)
        self.nodes = NodeSync(
            self.platform.client,
            self.settings,
            self.lookups.nodes,
            self.lookups.pods_on,
            self.platform.recorder("node-controller"),
        )

    def start(self) -> None:
        if self.nodes is None:
            raise RuntimeError("WorkerService.register(hub) must run before hub.start()")
        self._connect()
        self.kubelet.start()
        self.platform.logs = RayLogSource(self.kubelet)
        self._thread = threading.Thread(target=self._run, name="ray-nodes", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=30)
        self.kubelet.stop()
        self.platform.logs = NoLogs()
        if self._connected:
            ray.shutdown()
            self._connected = False
        if self._started_ray and not self.settings.ray_keep_running:
            local_ray.stop_local_ray(self.ray_temp)
            log.info("stopped the embedded Ray under %s", self.ray_temp)

    # -- Ray ------------------------------------------------------------------------------
    def _connect(self) -> None:
        if ray.is_initialized():
            return  # already a driver (of the cluster the caller chose)
        if self.settings.ray_address:
            address = self.settings.ray_address
        else:
            address = local_ray.start_local_ray(
                self.ray_temp,
                num_cpus=self.settings.ray_num_cpus,
                num_gpus=self.settings.ray_num_gpus,
                idle_workers=self.settings.ray_idle_workers,
            )
            self._started_ray = True
            local_ray.connect_env(self.ray_temp)
        ray.init(
            address=address,
            namespace=pool.AGENT_NAMESPACE,
            logging_level=logging.WARNING,
            log_to_driver=False,
        )
        self._connected = True
        log.info("workers joined Ray at %s", address)

    def _hidden(self) -> list[str]:
        hidden = {str(self.data_dir), str(self.ray_temp)}
        if self._started_ray:
            # The short link to the embedded head's temp dir exists already (the head was
            # started through it); asking for it any other time would make a dangling one.
            hidden.add(str(local_ray.short_path(self.ray_temp)))
        return sorted(hidden)

    def _collect_runtimes(self, wait_s: float) -> None:
        """Record the sandbox reports of agents that answered their first ``ping``."""
        if not self._runtime_calls:
            return
        ready, _ = ray.wait(
            list(self._runtime_calls), num_returns=len(self._runtime_calls), timeout=wait_s
        )
        for call in ready:
            node_id = self._runtime_calls.pop(call)
            try:
                runtime = ray.get(call)["runtime"]
            except ray.exceptions.RayError as err:
                log.warning("node agent on Ray node %s did not answer: %s", node_id[:12], err)
                continue
            self.runtimes[node_id] = runtime
            if not runtime.get("sandboxed"):
                log.warning(
                    "NO SANDBOX on Ray node %s: %s. Pods with volume mounts or their "
                    "own hostname will fail there.",
                    node_id[:12],
                    runtime.get("problem"),
                )

    # -- the node loop --------------------------------------------------------------------
    def _run(self) -> None:
        while not self.hub.synced.wait(0.2):
            if self._stop.is_set():
                return
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # Ray or the store hiccuped: the next tick tries again
                log.exception("node sync failed")
            self._stop.wait(self.settings.node_sync_period_s)

    def tick(self) -> None:
        """One look at Ray: agents for new live nodes, then Nodes and node losses."""
        if not ray.is_initialized():
            return  # the driver is shutting down; calling now would start a new one
        ray_nodes = [
            n for n in ray.nodes() if (n.get("Labels") or {}).get(SIMULATED_LABEL) != "true"
        ]
        self._ensure_agents([n for n in ray_nodes if n.get("Alive")])
        self._collect_runtimes(0)
        if self.nodes is None:
            raise RuntimeError("WorkerService.register(hub) must run before tick()")
        self.nodes.reconcile(ray_nodes, self.runtimes)

    def _ensure_agents(self, alive: list[dict]) -> None:
        known = self.kubelet.agents
        wanted: dict[str, AgentRef] = {}
        missing = []
        for node in alive:
            name = pool.node_name(node)
            ref = known.get(name)
            if ref is not None and ref.node_id == node["NodeID"]:
                wanted[name] = ref
            else:
                missing.append(node)
        if missing:
            handles = pool.ensure_agents(
                str(self.node_root),
                hide=self._hidden(),
                nodes=missing,
                backoff_base=self.settings.restart_backoff_base_s,
                backoff_cap=self.settings.restart_backoff_cap_s,
                bwrap=self.settings.bwrap,
                launch_here=launches_pods(self.settings, embedded=self._started_ray),
            )
            for node_id, handle in handles.items():
                self._runtime_calls[handle.ping.remote()] = node_id
            # A new node is registered once its agent has said whether it can sandbox pods
            # (after _AGENT_ANSWER_S without an answer, with SandboxReady Unknown).
            self._collect_runtimes(_AGENT_ANSWER_S)
            for node in missing:
                obj = pool.node_object(node, self.settings)
                wanted[obj["metadata"]["name"]] = AgentRef(
                    obj["metadata"]["name"],
                    node["NodeID"],
                    handles[node["NodeID"]],
                    host_ip=node.get("NodeManagerAddress") or "",
                    allocatable=obj["status"]["allocatable"],
                )
                log.info(
                    "node agent for %s on Ray node %s", obj["metadata"]["name"], node["NodeID"][:12]
                )
        if wanted != known or any(
            wanted[n].handle is not known[n].handle for n in wanted if n in known
        ):
            self.kubelet.set_agents(wanted)


def launches_pods(settings: Settings, *, embedded: bool) -> bool:
    """Whether the node agents start CPU-only pods themselves: as set, or, unset, when Berth
    runs its own private Ray (nothing else shares its node, so Ray need not count them)."""
    if settings.agent_launches_pods is not None:
        return settings.agent_launches_pods
    return embedded
