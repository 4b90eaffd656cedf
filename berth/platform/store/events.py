"""Events: what happened to an object, for ``kubectl describe`` and ``kubectl get events``.

Repeats of the same (object, type, reason, message) within the aggregation window update one
Event's ``count`` and ``lastTimestamp`` instead of creating another, as kubelet and the
controllers do in Kubernetes.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import OrderedDict
from datetime import datetime, timedelta

from berth.platform.errors import BerthError, Conflict, NotFound
from berth.platform.resources import registry
from berth.platform.resources.meta import rfc3339
from berth.platform.store.client import Client

log = logging.getLogger(__name__)

_AGGREGATE_FOR = timedelta(minutes=10)


class EventRecorder:
    def __init__(self, client: Client, component: str, host: str = "", max_keys: int = 4096):
        self.client = client
        self.component = component
        self.host = host
        self._recent: OrderedDict[tuple, tuple[str, str, datetime]] = OrderedDict()
        self._max_keys = max_keys
        self._lock = threading.Lock()

    def event(self, obj: dict, type_: str, reason: str, message: str) -> None:
        """Record an Event about ``obj``; never raises (an event is not worth failing for)."""
        try:
            self._record(obj, type_, reason, message)
        except BerthError as exc:
            log.debug(
                "event %s for %s dropped: %s", reason, obj.get("metadata", {}).get("name"), exc
            )

    def normal(self, obj: dict, reason: str, message: str) -> None:
        self.event(obj, "Normal", reason, message)

    def warning(self, obj: dict, reason: str, message: str) -> None:
        self.event(obj, "Warning", reason, message)

    def _record(self, obj: dict, type_: str, reason: str, message: str) -> None:
        md = obj.get("metadata") or {}
        namespace = md.get("namespace") or "default"
        key = (md.get("uid"), type_, reason, message)
        now = self.client.clock()
        with self._lock:
            seen = self._recent.get(key)
        if seen is not None and now - seen[2] < _AGGREGATE_FOR:
            ns, name, _ = seen
            try:
                self.client.guaranteed_update(registry.EVENT, ns, name, lambda ev: _bump(ev, now))
                return
            except (NotFound, Conflict):
                pass
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{md.get('name', 'unknown')}.{secrets.token_hex(8)}",
                "namespace": namespace,
            },
            "involvedObject": {
                "apiVersion": obj.get("apiVersion", ""),
                "kind": obj.get("kind", ""),
                "name": md.get("name", ""),
                "namespace": md.get("namespace", ""),
                "uid": md.get("uid", ""),
                "resourceVersion": md.get("resourceVersion", ""),
            },
            "reason": reason,
            "message": message,
            "type": type_,
            "source": {"component": self.component, **({"host": self.host} if self.host else {})},
            "firstTimestamp": rfc3339(now),
            "lastTimestamp": rfc3339(now),
            "count": 1,
            "reportingComponent": self.component,
            "reportingInstance": self.host,
        }
        created = self.client.create(registry.EVENT, event, namespace)
        with self._lock:
            self._recent[key] = (namespace, created["metadata"]["name"], now)
            self._recent.move_to_end(key)
            while len(self._recent) > self._max_keys:
                self._recent.popitem(last=False)


def _bump(event: dict, now) -> dict:
    event["count"] = int(event.get("count") or 1) + 1
    event["lastTimestamp"] = rfc3339(now)
    return event
