"""Pods bound to a node that does not exist: Kubernetes' pod GC for orphaned pods.

A pod whose ``spec.nodeName`` names neither a live agent nor a Node object (a typo in a pod
created already bound, a Node someone deleted) can never run. After a quarantine
(``orphan_pod_grace_s``, 40 s in Kubernetes: a Node may be on its way) and a last look in the
store, it is marked Failed with ``DisruptionTarget`` (``DeletionByPodGC``) and deleted with
grace 0. A finished pod being deleted there is removed at once: no agent will confirm it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from berth.platform.errors import Conflict, Invalid, NotFound
from berth.platform.resources import registry
from berth.platform.resources.meta import dig, rfc3339, utcnow
from berth.platform.resources.pods import is_terminal
from berth.platform.store.client import Client
from berth.workers.control.eviction import POD_GC_MESSAGE, POD_GC_REASON, failed_disrupted

log = logging.getLogger(__name__)


class OrphanTracker:
    def __init__(
        self,
        client: Client,
        grace_s: float,
        monotonic: Callable[[], float] = time.monotonic,
        clock=utcnow,
    ):
        self.client = client
        self.grace_s = grace_s
        self.monotonic = monotonic
        self.clock = clock
        self._since: dict[str, float] = {}  # pod uid -> when first seen orphaned

    def sweep(self, lookups, agent_nodes: set[str]) -> None:
        """One look at every bound pod (``lookups``: the informer caches)."""
        now = self.monotonic()
        seen = set()
        for pod in lookups.pods.list():
            node = dig(pod, "spec", "nodeName")
            if not node or node in agent_nodes or lookups.node(node) is not None:
                continue
            md = pod["metadata"]
            if is_terminal(pod):
                if md.get("deletionTimestamp") and md.get("deletionGracePeriodSeconds") != 0:
                    self._delete_now(pod)
                continue
            seen.add(md["uid"])
            first = self._since.setdefault(md["uid"], now)
            if now - first >= self.grace_s and self.client.try_get(registry.NODE, "", node) is None:
                self._fail(pod)
        self._since = {uid: t for uid, t in self._since.items() if uid in seen}

    def _fail(self, pod: dict) -> None:
        md = pod["metadata"]
        stamp = rfc3339(self.clock())

        def fail(current: dict) -> dict | None:
            if current["metadata"]["uid"] != md["uid"] or is_terminal(current):
                return None
            return {
                **current,
                "status": failed_disrupted(current, POD_GC_REASON, POD_GC_MESSAGE, stamp),
            }

        try:
            self.client.guaranteed_update(
                registry.POD, md["namespace"], md["name"], fail, subresource="status"
            )
        except NotFound:
            return
        except (Conflict, Invalid) as err:
            log.warning("orphaned pod %s/%s not failed yet: %s", md["namespace"], md["name"], err)
            return
        log.info(
            "pod %s/%s failed: node %s does not exist",
            md["namespace"],
            md["name"],
            pod["spec"]["nodeName"],
        )
        self._delete_now(pod)

    def _delete_now(self, pod: dict) -> None:
        md = pod["metadata"]
        try:
            self.client.delete(
                registry.POD,
                md["namespace"],
                md["name"],
                grace_period_seconds=0,
                preconditions={"uid": md["uid"]},
            )
        except (NotFound, Conflict):
            pass
