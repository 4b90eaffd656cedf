"""Pod statuses from the node agents into the store (the kubelet's status manager).

Each agent is asked what changed since its cursor (``agent.statuses``) as a long poll: the
agent answers as soon as a status changes (or after ``kubelet_status_poll_s`` with nothing),
so a pod's status reaches the store as it happens, and everything that changed while the
previous answer was being written comes in one answer. One call per agent is in flight at a
time, so an agent that does not answer (its node dying) holds up no other (asking for the
next answer before writing the last one was tried: it cost the agent ~1.5 ms CPU per Job in
more, smaller answers, for no gain that showed under load). Each change is merged into the
stored status
(``podstatus.merge_status``) and written through the status subresource when it differs, by a
compare-and-set on the version of the pod we hold (the informer's, or our own last write of it
when newer: ``WrittenPods``); only a conflict costs a read. The writes of one answer commit
together (``Client.batch``). A
pod being deleted whose agent reports it finished is then deleted with grace 0, as a kubelet
confirms a deletion.

A report of containers lost (``ContainerStatusUnknown``: the agent saw a pod's task die
without an exit) is held back until the agent proves it outlived it: an agent on a node whose
raylet died sees its tasks fail at once, while Ray declares the node dead only after its health
checks. Writing that Failed status would beat the node-loss path, and the pod would lack its
``DisruptionTarget``. So the report (unless the pod is being deleted: then a stop before it
started is what was asked) waits until a later call to the same agent, sent at least
``confirm_s`` after it, is answered (the agent lives, the report stands), or the agent leaves
(its node is gone: ``NodeSync`` fails the pod as lost), or ``max_hold_s`` passes.

The pods an answer shows ended (``ended``) are told to the ``on_ended`` listeners (the
scheduler) before their statuses are written: the node saw their processes end, so their
places are free whatever becomes of the write, and the next pod need not wait for the store
round trip (write, change feed, informer) to be placed. The store stays the source of truth:
a failed write is retried from the same cursor, a conflict is merged, and a terminal phase
never changes, so the stored status catches up with what the listener was told.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import ray
import ray.exceptions

from berth.platform.errors import Conflict, Invalid, NotFound
from berth.platform.resources import registry
from berth.platform.resources.pods import is_terminal, status_is_terminal
from berth.platform.store.client import Client
from berth.workers.control.podevents import events_for
from berth.workers.control.podstatus import containers_lost, merge_status
from berth.workers.starting import starting

log = logging.getLogger(__name__)

_ANSWER_SLACK_S = 0.5  # beyond the long poll: a call's trip through Ray
START_DEFER_S = 0.2  # a normal start waits this long for the status that replaces it


class HeldReports:
    """Reports of lost containers waiting for proof that their agent outlived them."""

    def __init__(self, confirm_s: float = 2.0, max_hold_s: float = 60.0):
        self.confirm_s = confirm_s
        self.max_hold_s = max_hold_s
        self._held: dict[str, tuple[str, dict, float]] = {}  # uid -> (node id, report, since)

    def __len__(self) -> int:
        return len(self._held)

    def hold(self, node_id: str, report: dict, now: float) -> None:
        self._held[report["uid"]] = (node_id, report, now)

    def drop(self, uid: str) -> None:
        self._held.pop(uid, None)

    def release(self, node_id: str, asked_at: float, now: float) -> list[dict]:
        """Reports of ``node_id`` that an answer to a call sent at ``asked_at`` confirms,
        and any held too long."""
        out = []
        for uid, (node, report, since) in list(self._held.items()):
            if (
                node == node_id and asked_at >= since + self.confirm_s
            ) or now - since >= self.max_hold_s:
                out.append(report)
                del self._held[uid]
        return out

    def forget_nodes_except(self, node_ids: set[str]) -> None:
        """Drop the reports of agents that left: their pods are the node-loss path's."""
        self._held = {uid: held for uid, held in self._held.items() if held[0] in node_ids}


class WrittenPods:
    """The pods as this kubelet last wrote them, kept until the informer's copy catches up:
    a report that follows our own write closely (Running, then Succeeded) is then written
    by a compare-and-set on the version we wrote, not a conflict and a read."""

    def __init__(self, limit: int = 10_000):
        self.limit = limit
        self._pods: dict[str, dict] = {}

    def __len__(self) -> int:
        return len(self._pods)

    def newest(self, pod: dict) -> dict:
        """``pod`` (the informer's) or our own later write of it, whichever is newer."""
        uid = pod["metadata"].get("uid")
        mine = self._pods.get(uid)
        if mine is None:
            return pod
        if _version(mine) > _version(pod):
            return mine
        del self._pods[uid]  # the informer has caught up
        return pod

    def remember(self, pods: list[dict | None]) -> None:
        """Pods as written (committed); a finished one will not be written again."""
        if len(self._pods) > self.limit:  # only a cache: pods deleted unseen never come back
            self._pods.clear()
        for pod in pods:
            if pod is None:
                continue
            uid = pod["metadata"].get("uid")
            if is_terminal(pod):
                self._pods.pop(uid, None)
            else:
                self._pods[uid] = pod


def _version(pod: dict) -> int:
    return int(pod["metadata"].get("resourceVersion") or 0)


class StatusReports:
    """The status thread's work; ``kubelet`` gives ``agents``, ``forget_agent``, ``lookups``,
    ``recorder``."""

    def __init__(
        self,
        client: Client,
        kubelet,
        poll_s: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.client = client
        self.kubelet = kubelet
        self.poll_s = poll_s
        self.monotonic = monotonic
        self.held = HeldReports()
        self.deferred = HeldReports(START_DEFER_S, START_DEFER_S)
        self.written = WrittenPods()
        self.cursors: dict[str, int] = {}  # node id -> the agent's cursor we hold
        # Told the uids of the pods each answer shows ended, before the store write.
        self.on_ended: list[Callable[[list[str]], None]] = []
        self._pending: dict[object, tuple] = {}  # statuses call -> (AgentRef, asked at)

    def reset(self, node_id: str) -> None:
        """A new agent on that node: its cursor starts over."""
        self.cursors.pop(node_id, None)

    def poll(self) -> bool:
        """Ask every agent not already asked for its changes, as a long poll (the agent
        answers as soon as a status changes, or after ``poll_s``); write the answers that came.
        False when there was no agent to ask."""
        if not ray.is_initialized():
            return False  # the driver is shutting down; calling now would start a new one
        agents = self.kubelet.agents
        asked = {ref.node_id for ref, _ in self._pending.values()}
        for ref in agents.values():
            if ref.node_id not in asked:
                call = ref.handle.statuses.remote(self.cursors.get(ref.node_id, 0), self.poll_s)
                self._pending[call] = (ref, self.monotonic())
        if self._pending:
            # The first answer ends the wait; any others already back come with it.
            ready, _ = ray.wait(
                list(self._pending), num_returns=1, timeout=self.poll_s + _ANSWER_SLACK_S
            )
            if ready:
                ready, _ = ray.wait(list(self._pending), num_returns=len(self._pending), timeout=0)
            for done in ready:
                ref, asked_at = self._pending.pop(done)
                self._collect(ref, asked_at, done)
        live = {ref.node_id for ref in self.kubelet.agents.values()}
        for reports in (self.held, self.deferred):
            if len(reports):
                reports.forget_nodes_except(live)
        return bool(agents)

    def clear(self) -> None:
        self._pending.clear()

    def _collect(self, ref, asked_at: float, done) -> None:
        try:
            cursor, updates = ray.get(done)
        except ray.exceptions.RayActorError:
            self.kubelet.forget_agent(ref)
            return
        except ray.exceptions.RayError as err:
            log.warning("statuses of node %s failed: %s", ref.node_name, err)
            return
        self.take(ref, asked_at, cursor, updates)

    def take(self, ref, asked_at: float, cursor: int, updates: list[dict]) -> None:
        """One answer of ``ref``'s agent to a call sent at ``asked_at``: tell the listeners
        the pods it shows ended, write the statuses, then move to ``cursor`` (kept where it
        was when the write failed: the same changes are asked for again)."""
        batch = self.to_write(ref.node_id, asked_at, updates)
        uids = self._news_of_ends(batch)
        for listener in self.on_ended if uids else ():
            listener(uids)
        try:
            with self.client.batch():  # one commit for every status of this answer
                written = [
                    self.apply(update, ref.node_id, confirmed=confirmed)
                    for update, confirmed in batch
                ]
            self.written.remember(written)
            for pod in written:
                if pod is not None and finishing(pod):
                    delete_now(self.client, pod)
        except Exception:  # the store failed: ask again from the same cursor
            log.exception("pod status write failed; retrying")
            self._hold_again(ref.node_id, batch, updates)
            return
        if self.kubelet.agent_for(ref.node_name) is ref:
            self.cursors[ref.node_id] = cursor

    def _hold_again(
        self, node_id: str, batch: list[tuple[dict, bool]], updates: list[dict]
    ) -> None:
        """After a failed write, hold again the reports of ``batch`` that earlier answers
        gave (released by ``to_write``): asking again from the same cursor brings back only
        this answer's own. Each is released by the next answer of its node, as it was now."""
        now = self.monotonic()
        own = {id(update) for update in updates}
        for update, confirmed in batch:
            if id(update) in own:
                continue
            if confirmed:
                self.held.hold(node_id, update, now - self.held.confirm_s)
            else:
                self.deferred.hold(node_id, update, now - self.deferred.confirm_s)

    def _news_of_ends(self, batch: list[tuple[dict, bool]]) -> list[str]:
        """The uids of the pods ``batch`` shows ended (``ended``) that the store, as far as
        we know it, does not show finished yet (an agent new to the control plane reports
        every pod it holds, long finished ones too)."""
        out = []
        for update in ended(batch):
            pod = self.kubelet.lookups.pod(update["namespace"], update["name"], update["uid"])
            if pod is not None and not is_terminal(self.written.newest(pod)):
                out.append(update["uid"])
        return out

    def to_write(
        self, node_id: str, asked_at: float, updates: list[dict]
    ) -> list[tuple[dict, bool]]:
        """The reports an answer of ``node_id`` to a call sent at ``asked_at`` makes to
        write, each with whether it is confirmed: the held and deferred reports it releases,
        then its own, less the normal starts it defers. One per pod (a batch reads committed
        state only): a newer report replaces an older one of the same pod."""
        now = self.monotonic()
        batch = {u["uid"]: (u, True) for u in self.held.release(node_id, asked_at, now)}
        batch.update((u["uid"], (u, False)) for u in self.deferred.release(node_id, now, now))
        for update in updates:
            if update["uid"] in batch or not self._defer(update, node_id, now):
                batch[update["uid"]] = (update, False)
        return list(batch.values())

    def _defer(self, update: dict, node_id: str, now: float) -> bool:
        """Hold back a pod's normal start (``starting``) for ``START_DEFER_S``: its next
        status (Running, most often, milliseconds later) replaces it, and one store write
        is saved. The agent sends it with any other change; while answers come often, it
        would otherwise be written on its own."""
        if not starting(update["status"]):
            return False
        self.deferred.hold(node_id, update, now)
        return True

    def apply(self, update: dict, node_id: str, confirmed: bool = False) -> dict | None:
        """Write one agent report into the store; the pod as stored after, or None when it is
        gone (or replaced by another of the same name). A pod being deleted that has now
        ended is the caller's to delete (``finishing``), after the batch commits."""
        ns, name, uid = update.get("namespace", ""), update.get("name", ""), update.get("uid", "")
        self.held.drop(uid)  # a newer report replaces a held one
        self.deferred.drop(uid)
        pod = self.kubelet.lookups.pod(ns, name, uid)
        if pod is None:
            return None
        pod = self.written.newest(pod)
        if (
            not confirmed
            and containers_lost(update["status"])
            and not is_terminal(pod)
            and not pod["metadata"].get("deletionTimestamp")
        ):
            self.held.hold(node_id, update, self.monotonic())
            return pod
        status = merge_status(pod.get("status"), update["status"])
        if status is not None:
            before = pod.get("status")
            try:
                pod = self._write(pod, status, update["status"])
            except NotFound:
                return None
            except Invalid as err:
                log.warning("status of pod %s/%s refused: %s", ns, name, err)
            else:
                self._record_events(pod, before, update)
        return pod if pod["metadata"].get("uid") == uid else None

    def _write(self, pod: dict, status: dict, reported: dict) -> dict:
        """Compare-and-set ``status`` on the copy of ``pod`` we hold (no read to find its
        version); only when that copy was stale, read the pod, merge again and write."""
        md = pod["metadata"]
        ns, name, uid = md.get("namespace", ""), md["name"], md.get("uid")
        try:
            return self.client.update(
                registry.POD, {**pod, "status": status}, ns, name, subresource="status", current=pod
            )
        except Conflict:
            pass

        def mutate(current: dict) -> dict | None:
            if current["metadata"].get("uid") != uid:
                return None
            merged = merge_status(current.get("status"), reported)
            return None if merged is None else {**current, "status": merged}

        return self.client.guaranteed_update(registry.POD, ns, name, mutate, subresource="status")

    def _record_events(self, pod: dict, before: dict | None, update: dict) -> None:
        recorder = self.kubelet.recorder
        if recorder is None:
            return
        for type_, reason, message in events_for(
            before,
            pod.get("status"),
            sandboxed=update.get("sandboxed", True),
            node=(pod.get("spec") or {}).get("nodeName", ""),
        ):
            recorder.event(pod, type_, reason, message)


def ended(batch: list[tuple[dict, bool]]) -> list[dict]:
    """The reports of a ``to_write`` batch that show a pod's end as its node saw it: a
    terminal status, but a report of containers lost only once confirmed (its node may be
    dying, and a dead node is not proof of a dead process)."""
    return [
        update
        for update, confirmed in batch
        if status_is_terminal(update["status"])
        and (confirmed or not containers_lost(update["status"]))
    ]


def finishing(pod: dict) -> bool:
    """A pod being deleted that has ended, still waiting for the delete that removes it."""
    md = pod.get("metadata") or {}
    return (
        bool(md.get("deletionTimestamp"))
        and is_terminal(pod)
        and md.get("deletionGracePeriodSeconds") != 0
    )


def delete_now(client: Client, pod: dict) -> None:
    """The final delete (grace 0) of a pod whose containers have stopped."""
    md = pod["metadata"]
    try:
        client.delete(
            registry.POD,
            md["namespace"],
            md["name"],
            grace_period_seconds=0,
            preconditions={"uid": md["uid"]},
        )
    except (NotFound, Conflict):
        pass
