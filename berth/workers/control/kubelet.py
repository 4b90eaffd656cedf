"""The control plane's half of the kubelet: bound pods go to their node's agent, statuses
come back into the store.

Two threads, both idle until the informers have listed the store (an agent told "no pods"
before the list would stop every pod it runs):

- **sync**: an informer event that matters to a node (a pod bound to it appears, goes, or
  changes anything but its status) marks that pod dirty and wakes the thread at once, which
  (after ``kubelet_debounce_s``, none by default) sends each node's agent only its dirty
  pods, each with its runtime bundle, and the uids of those gone (``agent.update``): the
  cost of a change does not grow with the pods a node holds. A ConfigMap, Secret, claim or
  volume change, a new agent, or a failed send marks the whole node instead, which gets the
  complete set of pods bound to it (``agent.sync``); every ``kubelet_resync_period_s`` every
  agent gets its complete set regardless. One send per node is in flight at a time; what
  changes meanwhile goes in the next, as soon as the answer comes (it wakes the thread).
  The same pass deletes (grace 0) terminal pods that are being deleted, and fails pods bound
  to a node that has neither an agent nor a Node object (``podgc.py``).
- **status**: asks each agent for status changes (a long poll: answered as they happen) and
  writes them (``reports.py``); the pods that ended go to the ``on_pods_ended`` listeners
  (the scheduler) first, so a place is reused before the write reaches the store.

Agents are handed in by the worker service (``set_agents``) as it finds Ray nodes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import ray
import ray.exceptions

from berth.platform.cache.informers import InformerHub
from berth.platform.resources.meta import changed, dig, utcnow
from berth.platform.resources.pods import is_terminal
from berth.platform.store.client import Client
from berth.platform.store.events import EventRecorder
from berth.settings import Settings
from berth.workers.control.lookups import Lookups
from berth.workers.control.podgc import OrphanTracker
from berth.workers.control.reports import StatusReports, delete_now, finishing

log = logging.getLogger(__name__)

_CALL_TIMEOUT_S = 30.0
_HOUSEKEEPING_S = 1.0
_IGNORED_META = ("resourceVersion", "managedFields")


@dataclass(frozen=True)
class AgentRef:
    """One node's agent as the kubelet sees it."""

    node_name: str
    node_id: str
    handle: Any = field(compare=False)  # the agent's Ray actor handle
    host_ip: str = ""
    allocatable: dict = field(default_factory=dict, compare=False)


def matters_to_agent(old: dict | None, new: dict | None) -> bool:
    """Whether a pod change must reach its agent: anything but a status (or version) change.
    The kubelet's own status writes come back as events; resending the node's pods for each
    would be wasted work. Nor does a change to a pod that had ended and still has, unless it
    is being deleted (then the sync pass deletes it): it would go as ``{"finished": uid}``,
    which an agent that ran the pod already knows, and every ended pod of a Job changes so
    once (the job controller releasing its tracking finalizer)."""
    if old is None or new is None:
        return True
    if is_terminal(old) and is_terminal(new) and not new["metadata"].get("deletionTimestamp"):
        return dig(old, "spec", "nodeName") != dig(new, "spec", "nodeName")
    return _spec_view(old) != _spec_view(new)


def _spec_view(pod: dict) -> tuple:
    md = {k: v for k, v in (pod.get("metadata") or {}).items() if k not in _IGNORED_META}
    return md, pod.get("spec")


class KubeletSync:
    def __init__(
        self,
        client: Client,
        settings: Settings,
        lookups: Lookups,
        *,
        clock: Callable[[], datetime] = utcnow,
        recorder: EventRecorder | None = None,
    ):
        self.client = client
        self.recorder = recorder  # the kubelet's pod Events (podevents.py); None: none
        self.settings = settings
        self.lookups = lookups
        self.clock = clock
        self._agents: dict[str, AgentRef] = {}
        self.reports = StatusReports(client, self, settings.kubelet_status_poll_s)
        # Node name -> the pods to send it, as (namespace, name, uid); None: its whole set.
        self._dirty: dict[str, set[tuple[str, str, str]] | None] = {}
        self._inflight: dict[str, tuple] = {}  # node name -> (sync call, AgentRef, sent at)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._agents_set = threading.Event()  # wakes the status thread waiting for agents
        self._stop = threading.Event()
        self._synced: threading.Event  # the hub's, set by register()
        self._threads: list[threading.Thread] = []
        self._orphans = OrphanTracker(client, settings.orphan_pod_grace_s)

    # -- wiring ---------------------------------------------------------------------------
    def register(self, hub: InformerHub) -> None:
        """After ``lookups.register(hub)``, before ``hub.start()``."""
        self._synced = hub.synced
        self.lookups.pods.add_handler(self._on_pod)
        for informer in (self.lookups.configmaps, self.lookups.secrets, self.lookups.claims):
            informer.add_handler(self._on_config)
        self.lookups.volumes.add_handler(lambda _old, _new: self._mark(set(self._agents)))

    def start(self) -> None:
        for target, name in (
            (self._sync_loop, "kubelet-sync"),
            (self._status_loop, "kubelet-status"),
        ):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._agents_set.set()
        for thread in self._threads:
            thread.join(timeout=_CALL_TIMEOUT_S)
        self._threads.clear()

    def on_pods_ended(self, listener: Callable[[list[str]], None]) -> None:
        """``listener(uids)`` is told, on the status thread, the pods whose end a node agent
        reported, before their statuses are written (``reports.ended``). It must not block."""
        self.reports.on_ended.append(listener)

    # -- agents ---------------------------------------------------------------------------
    @property
    def agents(self) -> dict[str, AgentRef]:
        return dict(self._agents)

    def agent_for(self, node_name: str | None) -> AgentRef | None:
        return self._agents.get(node_name) if node_name else None

    def set_agents(self, agents: dict[str, AgentRef]) -> None:
        """The live agents by node name; a new one gets its pods at once."""
        with self._lock:
            fresh = {
                name
                for name, ref in agents.items()
                if self._agents.get(name) != ref or self._agents[name].handle is not ref.handle
            }
            for name in fresh:
                self.reports.reset(agents[name].node_id)
            self._agents = dict(agents)
        self._agents_set.set()
        self._mark(fresh)

    def forget_agent(self, ref: AgentRef) -> None:
        """The agent's actor is gone (its node died, or it crashed): drop it until the service
        finds it again."""
        with self._lock:
            if self._agents.get(ref.node_name) is ref:
                del self._agents[ref.node_name]
        log.warning("node agent of %s is gone", ref.node_name)

    # -- events ---------------------------------------------------------------------------
    def _mark(self, names: set[str]) -> None:
        """These nodes get their complete set of pods."""
        if not names:
            return
        with self._lock:
            for name in names:
                self._dirty[name] = None
        self._wake.set()

    def _mark_pods(
        self, dirty: dict[str, set[tuple[str, str, str]] | None], *, wake: bool = True
    ) -> None:
        """Add to what each node is to be sent. ``wake=False``: for a node still waiting
        for its last answer, which the loop checks on its own."""
        if not dirty:
            return
        with self._lock:
            for name, keys in dirty.items():
                _merge(self._dirty, name, keys)
        if wake:
            self._wake.set()

    def _on_pod(self, old: dict | None, new: dict | None) -> None:
        if not matters_to_agent(old, new):
            return
        md = changed(old, new)["metadata"]
        key = (md.get("namespace", ""), md.get("name", ""), md.get("uid", ""))
        nodes = {dig(p, "spec", "nodeName") for p in (old, new) if p is not None}
        self._mark_pods({n: {key} for n in nodes if n})

    def _on_config(self, old: dict | None, new: dict | None) -> None:
        namespace = dig(changed(old, new), "metadata", "namespace")
        self._mark(
            {
                dig(p, "spec", "nodeName")
                for p in self.lookups.pods.list(namespace)
                if dig(p, "spec", "nodeName") and not is_terminal(p)
            }
        )

    # -- the sync thread --------------------------------------------------------------------
    def _sync_loop(self) -> None:
        while not self._synced.wait(0.2):
            if self._stop.is_set():
                return
        next_full = next_housekeeping = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now < next_full:
                # An answer to a sync in flight wakes the loop too (``_push``).
                until = min(next_full, next_housekeeping)
                woke = self._wake.wait(max(0.0, until - now))
                if woke and self.settings.kubelet_debounce_s:
                    self._stop.wait(self.settings.kubelet_debounce_s)
            full = time.monotonic() >= next_full
            self._wake.clear()
            with self._lock:
                dirty, self._dirty = self._dirty, {}
            if full:
                next_full = time.monotonic() + self.settings.kubelet_resync_period_s
                dirty = dict.fromkeys(self._agents)
            try:
                self._reap()
                self._push(dirty)
                if time.monotonic() >= next_housekeeping:
                    next_housekeeping = time.monotonic() + _HOUSEKEEPING_S
                    self._orphans.sweep(self.lookups, set(self._agents))
            except Exception:  # a failed pass is retried by the next one; never kill the loop
                log.exception("kubelet sync pass failed")
                self._mark(set(dirty))
                self._stop.wait(1.0)

    def _push(self, dirty: dict[str, set[tuple[str, str, str]] | None]) -> None:
        """Send each named node its dirty pods (or, for None, its complete set). One send
        per node is in flight at a time: the agent runs calls concurrently, and an older set
        applied after a newer one would undo it. A node still waiting stays dirty; a node
        that does not answer (dying, not yet detected dead) holds up no other."""
        if not ray.is_initialized():
            return  # the driver is shutting down; calling now would start a new one
        waiting: dict[str, set[tuple[str, str, str]] | None] = {}
        for name, keys in dirty.items():
            ref = self._agents.get(name)
            if ref is None:
                continue
            if name in self._inflight:
                waiting[name] = keys
                continue
            if keys is None:
                pods = self.lookups.pods_on(name)
                call = ref.handle.sync.remote([self._item(pod, ref) for pod in pods])
            else:
                pods, gone = self._changed_pods(name, keys)
                call = ref.handle.update.remote([self._item(pod, ref) for pod in pods], gone)
            self._inflight[name] = (call, ref, time.monotonic())
            # Its answer wakes the loop: what waited for it goes at once, not at a poll.
            call.future().add_done_callback(self._answered)
            for pod in pods:
                if finishing(pod):
                    delete_now(self.client, pod)
        self._mark_pods(waiting, wake=False)

    def _answered(self, _future) -> None:
        self._wake.set()

    def _changed_pods(
        self, node: str, keys: set[tuple[str, str, str]]
    ) -> tuple[list[dict], list[str]]:
        """The pods of ``keys`` still bound to ``node`` as the cache has them now, and the
        uids of the others (deleted, or replaced by a new pod of the same name)."""
        pods, gone = [], []
        for namespace, name, uid in keys:
            pod = self.lookups.pod(namespace, name, uid)
            if pod is not None and dig(pod, "spec", "nodeName") == node:
                pods.append(pod)
            else:
                gone.append(uid)
        return pods, gone

    def _item(self, pod: dict, ref: AgentRef) -> dict:
        """One pod as the agent is sent it: slim once the store shows it finished."""
        if is_terminal(pod):
            return {"finished": pod["metadata"]["uid"]}
        return {"pod": pod, "bundle": self._bundle(pod, ref)}

    def _reap(self) -> None:
        """Collect the answers of the syncs in flight."""
        if not self._inflight or not ray.is_initialized():
            return
        by_call = {call: name for name, (call, _, _) in self._inflight.items()}
        ready, late = ray.wait(list(by_call), num_returns=len(by_call), timeout=0)
        for done in ready:
            _, ref, _ = self._inflight.pop(by_call[done])
            try:
                ray.get(done)
            except ray.exceptions.RayActorError:
                self.forget_agent(ref)
            except ray.exceptions.RayError as err:
                log.warning("sync of node %s failed: %s", ref.node_name, err)
                self._mark({ref.node_name})
        for call in late:
            _, ref, sent = self._inflight[by_call[call]]
            if time.monotonic() - sent > _CALL_TIMEOUT_S:
                log.warning(
                    "node agent of %s has not answered a sync for %.0fs",
                    ref.node_name,
                    time.monotonic() - sent,
                )
                self._inflight[by_call[call]] = (call, ref, time.monotonic())

    def _bundle(self, pod: dict, ref: AgentRef) -> dict:
        return self.lookups.bundle(pod, ref.host_ip, ref.allocatable)

    # -- the status thread ------------------------------------------------------------------
    def _status_loop(self) -> None:
        while not self._synced.wait(0.2):
            if self._stop.is_set():
                return
        while not self._stop.is_set():
            try:
                if not self.reports.poll():  # no agent yet: wait for one
                    self._agents_set.wait(self.settings.kubelet_status_poll_s)
                    self._agents_set.clear()
            except Exception:  # Ray or the store hiccuped: the next round asks again
                log.exception("pod status poll failed")
                self.reports.clear()
                self._stop.wait(1.0)


def _merge(
    dirty: dict[str, set[tuple[str, str, str]] | None],
    node: str,
    keys: set[tuple[str, str, str]] | None,
) -> None:
    """Add ``keys`` to what ``node`` is to be sent; None (its whole set) absorbs any keys."""
    if keys is None or (node in dirty and dirty[node] is None):
        dirty[node] = None
    else:
        dirty[node] = (dirty.get(node) or set()) | keys
