"""Pod ends from the node agents, straight to the scheduler (the kubelet's "ends" thread).

A place on a node is free the moment the pod's processes end, but the pod's status reaches
the store only after the status thread's long poll is answered (while it writes the last
answer, the next end waits at the agent) and the write commits. So each agent is also asked,
by a long poll of its own (``agent.ended``), for the pods whose runners reported their end:
answered as soon as one ends, it carries uids only, and no store write waits on it. The
listeners (``KubeletSync.on_pods_ended``: the scheduler) are told each pod the store does not
show finished yet.

Only a hint: the statuses the status thread writes stay the record, and the scheduler, told
the same end twice (here, then by the status thread), frees the place once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import ray
import ray.exceptions

from berth.platform.resources.pods import is_terminal

log = logging.getLogger(__name__)

_ANSWER_SLACK_S = 0.5  # beyond the long poll: a call's trip through Ray


class EndWatch:
    """``kubelet`` gives ``agents``, ``lookups``; ``listeners`` are told lists of uids."""

    def __init__(self, kubelet, listeners: list[Callable[[list[str]], None]], poll_s: float):
        self.kubelet = kubelet
        self.listeners = listeners
        self.poll_s = poll_s
        self.cursors: dict[str, int] = {}  # node id -> the cursor of the last end heard
        self._pending: dict[object, Any] = {}  # ended call -> AgentRef

    def reset(self, node_id: str) -> None:
        """A new agent on that node: its cursor starts over."""
        self.cursors.pop(node_id, None)

    def clear(self) -> None:
        self._pending.clear()

    def poll(self) -> bool:
        """Ask every agent not already asked; tell the listeners what the first answers
        say. False when there was no agent to ask."""
        if not ray.is_initialized() or not self.listeners:
            return False
        agents = self.kubelet.agents
        asked = {ref.node_id for ref in self._pending.values()}
        for ref in agents.values():
            if ref.node_id not in asked:
                call = ref.handle.ended.remote(self.cursors.get(ref.node_id, 0), self.poll_s)
                self._pending[call] = ref
        if not self._pending:
            return bool(agents)
        ready, _ = ray.wait(
            list(self._pending), num_returns=1, timeout=self.poll_s + _ANSWER_SLACK_S
        )
        for done in ready:
            ref = self._pending.pop(done)
            try:
                cursor, ended = ray.get(done)
            except ray.exceptions.RayError as err:  # the status thread deals with the agent
                log.debug("ends of node %s not read: %s", ref.node_name, err)
                continue
            self.cursors[ref.node_id] = cursor
            self.tell(ended)
        return bool(agents)

    def tell(self, ended: list[dict]) -> None:
        """Tell the listeners the pods of ``ended`` the store does not show finished."""
        uids = []
        for end in ended:
            pod = self.kubelet.lookups.pod(end["namespace"], end["name"], end["uid"])
            if pod is not None and not is_terminal(pod):
                uids.append(end["uid"])
        if uids:
            for listener in self.listeners:
                listener(uids)
