"""Ray's nodes as Node objects, and what happens to pods when a node is lost.

``NodeSync.reconcile(ray_nodes)`` is called every ``node_sync_period_s`` with ``ray.nodes()``:

1. each live Ray node gets a Node (created once; ``berth.dev/ray-node-id`` marks it ours);
2. an existing Node is updated without clobbering what people did to it: labels and
   annotations are added, never removed; only the taints Berth owns are replaced
   (``kubectl taint`` adds others); ``spec.unschedulable`` (``kubectl cordon``) is never touched;
   the status goes through the status subresource, its heartbeat refreshed only now and then
   so that an idle cluster writes nothing;
3. a node Ray reports dead, or no longer lists, is Ready=Unknown with the ``unreachable``
   taints (NoSchedule and NoExecute, as the node lifecycle controller sets them);
4. the taint manager evicts pods from nodes with NoExecute taints they do not tolerate: on a
   live node the pod gets ``DisruptionTarget`` and is deleted gracefully (its agent stops it);
   on a lost node nobody can stop it, so it is marked Failed with ``DisruptionTarget`` first,
   then deleted with grace 0 (a Job sees a failed pod its ``podFailurePolicy`` can match);
5. a node Ray has forgotten entirely is deleted once none of its pods is still running.

Nodes labelled ``berth.dev/simulated: "true"`` (and Nodes without the annotation) are never
touched here.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from berth.platform.errors import AlreadyExists, Conflict, Invalid, NotFound
from berth.platform.resources import registry
from berth.platform.resources.meta import dig, parse_time, rfc3339, utcnow
from berth.platform.resources.pods import is_terminal
from berth.platform.resources.taints import NO_EXECUTE, NO_SCHEDULE, NOT_READY, UNREACHABLE
from berth.platform.store.client import Client
from berth.platform.store.events import EventRecorder
from berth.settings import Settings
from berth.workers.control import pool
from berth.workers.control.eviction import (
    TAINT_MANAGER_MESSAGE,
    TAINT_MANAGER_REASON,
    disruption_condition,
    eviction_time,
    failed_disrupted,
    with_condition,
)
from berth.workers.control.simulated import SIMULATED_LABEL

log = logging.getLogger(__name__)

HEARTBEAT = timedelta(seconds=60)  # how stale lastHeartbeatTime may get when nothing changed
GONE_MESSAGE = "Ray no longer lists this node"


def is_ours(node: dict | None) -> bool:
    return (
        node is not None
        and pool.NODE_ID_ANNOTATION in (dig(node, "metadata", "annotations") or {})
        and dig(node, "metadata", "labels", SIMULATED_LABEL) != "true"
    )


def is_ready(node: dict | None) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in dig(node or {}, "status", "conditions") or []
    )


def owned_taint_keys(settings: Settings) -> set[str]:
    return {UNREACHABLE, NOT_READY} | {t.get("key", "") for t in settings.node_taints}


def lost_taints(taints: list[dict]) -> list[dict]:
    """``taints`` with the unreachable NoExecute taint added (the object must also carry the
    NoSchedule one, which ``pool.node_object`` gives every dead node)."""
    if any(t.get("key") == UNREACHABLE and t.get("effect") == NO_EXECUTE for t in taints):
        return taints
    return taints + [{"key": UNREACHABLE, "effect": NO_EXECUTE}]


def forgotten(node: dict) -> dict:
    """What a Node of ours becomes when Ray no longer lists its node at all."""
    out = copy.deepcopy(node)
    taints = [t for t in dig(out, "spec", "taints") or [] if t.get("key") != UNREACHABLE]
    out.setdefault("spec", {})["taints"] = lost_taints(
        taints + [{"key": UNREACHABLE, "effect": NO_SCHEDULE}]
    )
    status = out.setdefault("status", {})
    status["conditions"] = [
        c for c in status.get("conditions") or [] if c.get("type") != "Ready"
    ] + [
        {
            "type": "Ready",
            "status": "Unknown",
            "reason": "NodeStatusUnknown",
            "message": GONE_MESSAGE,
        }
    ]
    return out


def merge_node(existing: dict, wanted: dict, owned: set[str], now: str) -> dict:
    """``existing`` with the labels, annotations and owned taints of ``wanted``; everything
    else (user labels and taints, ``spec.unschedulable``) kept. A taint keeps its
    ``timeAdded``; a NoExecute taint gets one when it appears."""
    out = copy.deepcopy(existing)
    md, want_md = out["metadata"], wanted["metadata"]
    md["labels"] = {**(md.get("labels") or {}), **(want_md.get("labels") or {})}
    md["annotations"] = {**(md.get("annotations") or {}), **(want_md.get("annotations") or {})}
    spec = out.setdefault("spec", {})
    spec.setdefault("providerID", dig(wanted, "spec", "providerID"))
    before = {(t.get("key"), t.get("effect")): t for t in spec.get("taints") or []}
    taints = [t for t in spec.get("taints") or [] if t.get("key") not in owned]
    for taint in dig(wanted, "spec", "taints") or []:
        taint = dict(taint)
        old = before.get((taint.get("key"), taint.get("effect")))
        if old is not None and old.get("timeAdded"):
            taint["timeAdded"] = old["timeAdded"]
        elif taint.get("effect") == NO_EXECUTE:
            taint.setdefault("timeAdded", now)
        taints.append(taint)
    if taints:
        spec["taints"] = taints
    else:
        spec.pop("taints", None)
    return out


def merge_node_status(existing: dict | None, wanted: dict, now: datetime) -> dict | None:
    """The Node status to write, or None when only the heartbeat would change and it is not
    stale yet. Each condition keeps ``lastTransitionTime`` while its status holds."""
    existing = existing or {}
    stamp = rfc3339(now)
    before = {c.get("type"): c for c in existing.get("conditions") or []}
    conditions = []
    for cond in wanted.get("conditions") or []:
        old = before.get(cond.get("type")) or {}
        same = old.get("status") == cond.get("status")
        conditions.append(
            {
                **cond,
                "lastHeartbeatTime": old.get("lastHeartbeatTime") or stamp,
                "lastTransitionTime": old.get("lastTransitionTime")
                if same and old.get("lastTransitionTime")
                else stamp,
            }
        )
    out = {**existing, **wanted, "conditions": conditions}
    if out != existing:
        for cond in conditions:
            cond["lastHeartbeatTime"] = stamp
        return out
    beats = [parse_time(c["lastHeartbeatTime"]) for c in conditions if c.get("lastHeartbeatTime")]
    if beats and now - min(beats) < HEARTBEAT:
        return None
    for cond in conditions:
        cond["lastHeartbeatTime"] = stamp
    return out


class NodeSync:
    """Keeps Nodes in step with Ray and evicts pods from lost and NoExecute-tainted nodes."""

    def __init__(
        self,
        client: Client,
        settings: Settings,
        nodes,
        pods_on: Callable[[str], list],
        recorder: EventRecorder | None = None,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.client = client
        self.settings = settings
        self.nodes = nodes  # the Node informer
        self.pods_on = pods_on  # node name -> pods bound to it (informer cache)
        self.recorder = recorder
        self.clock = clock
        self._owned = owned_taint_keys(settings)

    # -- one pass -------------------------------------------------------------------------
    def reconcile(self, ray_nodes: list[dict], runtimes: dict[str, dict] | None = None) -> None:
        """``runtimes``: each agent's sandbox report by Ray node id (``SandboxRuntime.info``)."""
        ray_nodes = [n for n in ray_nodes if (n.get("Labels") or {}).get(SIMULATED_LABEL) != "true"]
        wanted = {
            n["metadata"]["name"]: n for n in pool.node_objects(self.settings, ray_nodes, runtimes)
        }
        for name, node in wanted.items():
            try:
                self._sync_node(name, node)
            except (Conflict, Invalid, NotFound) as err:
                log.warning("node %s not updated: %s", name, err)
        for node in self.nodes.list():
            name = node["metadata"]["name"]
            if name in wanted or not is_ours(node):
                continue
            try:
                self._sync_forgotten(node)
            except (Conflict, Invalid, NotFound) as err:
                log.warning("node %s not updated: %s", name, err)

    def _sync_node(self, name: str, wanted: dict) -> None:
        alive = is_ready(wanted)
        existing = self.nodes.get("", name)
        if existing is None:
            if alive:  # a dead node we never knew is history, not a Node
                self._create(wanted)
            return
        if not is_ours(existing):
            return  # somebody else's Node of that name (a simulated one, say)
        if not alive:
            wanted = copy.deepcopy(wanted)
            wanted["spec"]["taints"] = lost_taints(wanted["spec"].get("taints") or [])
        current = self._write(existing, wanted)
        self._evict(current, lost=not alive)

    def _sync_forgotten(self, node: dict) -> None:
        current = self._write(node, forgotten(node))
        self._evict(current, lost=True)
        name = node["metadata"]["name"]
        if all(is_terminal(p) for p in self.pods_on(name)):
            try:
                self.client.delete(registry.NODE, "", name)
                log.info("node %s deleted: %s", name, GONE_MESSAGE)
            except NotFound:
                pass

    def _create(self, wanted: dict) -> None:
        now = self.clock()
        obj = copy.deepcopy(wanted)
        obj["spec"] = merge_node({"metadata": {}, "spec": {}}, obj, self._owned, rfc3339(now))[
            "spec"
        ]
        obj["status"] = merge_node_status(None, obj["status"], now)
        try:
            created = self.client.create(registry.NODE, obj)
        except AlreadyExists:
            return
        log.info("node %s registered", created["metadata"]["name"])
        if self.recorder:
            self.recorder.normal(
                created,
                "RegisteredNode",
                f"Node {created['metadata']['name']} event: Registered Node "
                f"{created['metadata']['name']} in Berth",
            )

    def _write(self, existing: dict, wanted: dict) -> dict:
        """Metadata and spec by a compare-and-set update, status through its subresource;
        each only when it changed. Returns the Node as stored now."""
        name = existing["metadata"]["name"]
        now = self.clock()

        def merge_meta(current: dict) -> dict | None:
            if not is_ours(current):
                return None
            return merge_node(current, wanted, self._owned, rfc3339(now))

        current = existing
        if merge_node(existing, wanted, self._owned, rfc3339(now)) != existing:
            current = self.client.guaranteed_update(registry.NODE, "", name, merge_meta)

        def merge_status(current: dict) -> dict | None:
            status = merge_node_status(current.get("status"), wanted.get("status") or {}, now)
            return None if status is None or not is_ours(current) else {**current, "status": status}

        if merge_node_status(current.get("status"), wanted.get("status") or {}, now) is not None:
            was_ready = is_ready(current)
            current = self.client.guaranteed_update(
                registry.NODE, "", name, merge_status, subresource="status"
            )
            if self.recorder and was_ready != is_ready(current):
                state = "NodeReady" if is_ready(current) else "NodeNotReady"
                self.recorder.normal(current, state, f"Node {name} status is now: {state}")
        return current

    # -- the taint manager ----------------------------------------------------------------
    def _evict(self, node: dict, lost: bool) -> None:
        taints = [t for t in dig(node, "spec", "taints") or [] if t.get("effect") == NO_EXECUTE]
        if not taints:
            return
        now = self.clock()
        for pod in self.pods_on(node["metadata"]["name"]):
            deleting = bool(dig(pod, "metadata", "deletionTimestamp"))
            if is_terminal(pod):
                if lost and deleting and dig(pod, "metadata", "deletionGracePeriodSeconds"):
                    self._delete_now(pod)  # no agent is left to confirm its end
                continue
            due = eviction_time(pod, taints, now)
            if due is None or due > now:
                continue
            try:
                if lost:
                    self._fail_and_delete(pod, now)
                elif not deleting:
                    self._evict_gracefully(pod, now)
            except (Conflict, Invalid) as err:
                log.warning(
                    "pod %s/%s not evicted yet: %s",
                    pod["metadata"]["namespace"],
                    pod["metadata"]["name"],
                    err,
                )

    def _fail_and_delete(self, pod: dict, now: datetime) -> None:
        stamp = rfc3339(now)

        def fail(current: dict) -> dict | None:
            if current["metadata"]["uid"] != pod["metadata"]["uid"] or is_terminal(current):
                return None
            return {
                **current,
                "status": failed_disrupted(
                    current, TAINT_MANAGER_REASON, TAINT_MANAGER_MESSAGE, stamp
                ),
            }

        try:
            self.client.guaranteed_update(
                registry.POD,
                pod["metadata"]["namespace"],
                pod["metadata"]["name"],
                fail,
                subresource="status",
            )
        except NotFound:
            return
        self._event(pod)
        self._delete_now(pod)

    def _evict_gracefully(self, pod: dict, now: datetime) -> None:
        condition = disruption_condition(TAINT_MANAGER_REASON, TAINT_MANAGER_MESSAGE, rfc3339(now))

        def mark(current: dict) -> dict | None:
            if current["metadata"]["uid"] != pod["metadata"]["uid"] or is_terminal(current):
                return None
            return {**current, "status": with_condition(current.get("status"), condition)}

        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        try:
            self.client.guaranteed_update(registry.POD, ns, name, mark, subresource="status")
            self._event(pod)
            self.client.delete(
                registry.POD, ns, name, preconditions={"uid": pod["metadata"]["uid"]}
            )
        except (NotFound, Conflict):
            pass

    def _delete_now(self, pod: dict) -> None:
        try:
            self.client.delete(
                registry.POD,
                pod["metadata"]["namespace"],
                pod["metadata"]["name"],
                grace_period_seconds=0,
                preconditions={"uid": pod["metadata"]["uid"]},
            )
        except (NotFound, Conflict):
            pass

    def _event(self, pod: dict) -> None:
        if self.recorder:
            md = pod["metadata"]
            self.recorder.normal(
                pod,
                "TaintManagerEviction",
                f"Marking for deletion Pod {md['namespace']}/{md['name']}",
            )
