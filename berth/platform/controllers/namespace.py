"""The namespace controller: a terminating namespace is emptied, then removed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable

from berth.platform.cache.informers import InformerHub
from berth.platform.errors import NotFound
from berth.platform.resources import registry
from berth.platform.store.client import Client

log = logging.getLogger(__name__)

CONTENT = tuple(rt for rt in registry.ALL if rt.namespaced)


class NamespaceController:
    name = "namespace-controller"

    def __init__(self, client: Client):
        self.client = client

    def setup(self, hub: InformerHub, enqueue: Callable[[Hashable], None]) -> None:
        def on_change(_old: dict | None, new: dict | None) -> None:
            if new is not None and new["metadata"].get("deletionTimestamp"):
                enqueue(new["metadata"]["name"])

        hub.informer(registry.NAMESPACE).add_handler(on_change)

    def reconcile(self, name: str) -> float | None:
        ns = self.client.try_get(registry.NAMESPACE, "", name)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return None
        remaining = 0
        for rt in CONTENT:
            for obj in self.client.list(rt, name).items:
                remaining += 1
                if obj["metadata"].get("deletionTimestamp"):
                    continue
                try:
                    self.client.delete(
                        rt, name, obj["metadata"]["name"], propagation_policy="Background"
                    )
                except NotFound:
                    remaining -= 1
        if remaining:
            return 1.0
        self.client.finalize_namespace(name)
        log.info("namespace %s removed", name)
        return None
