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

    def record_many(self, items: list[tuple[dict, str, str, str]]) -> None:
        """``event`` for each (object, type, reason, message), the new Events created together
        (``Client.create_many``: one insert of them all, where one create each cost a
        savepoint and four statements). Repeats are aggregated as ``event`` does, one by one.
        Never raises; an Event refused alone is dropped alone."""
        now = self.client.clock()
        fresh: dict[tuple, dict] = {}
        repeats: list[tuple[dict, str, str, str]] = []  # of one in ``fresh``: counted after
        for obj, type_, reason, message in items:
            key = _key(obj, type_, reason, message)
            try:
                if key in fresh:
                    repeats.append((obj, type_, reason, message))
                elif not self._bumped(key, now):
                    fresh[key] = self._new_event(obj, type_, reason, message, now)
            except BerthError as exc:
                log.debug("event %s dropped: %s", reason, exc)
        if fresh:
            self._create_many(fresh, now)
        for item in repeats:
            self.event(*item)

    def _create_many(self, fresh: dict[tuple, dict], now: datetime) -> None:
        try:
            created = self.client.create_many(registry.EVENT, list(fresh.values()))
        except BerthError as exc:
            log.debug("%d events dropped: %s", len(fresh), exc)
            return
        for (key, event), made in zip(fresh.items(), created, strict=True):
            if isinstance(made, BerthError):
                log.debug("event %s dropped: %s", event["reason"], made)
            else:
                self._remember(key, made, now)

    def _record(self, obj: dict, type_: str, reason: str, message: str) -> None:
        key = _key(obj, type_, reason, message)
        now = self.client.clock()
        if self._bumped(key, now):
            return
        event = self._new_event(obj, type_, reason, message, now)
        namespace = event["metadata"]["namespace"]
        self._remember(key, self.client.create(registry.EVENT, event, namespace), now)

    def _bumped(self, key: tuple, now: datetime) -> bool:
        """Whether a recent Event of ``key`` took this one as a repeat (its count bumped)."""
        with self._lock:
            seen = self._recent.get(key)
        if seen is not None and now - seen[2] < _AGGREGATE_FOR:
            ns, name, _ = seen
            try:
                self.client.guaranteed_update(registry.EVENT, ns, name, lambda ev: _bump(ev, now))
                return True
            except (NotFound, Conflict):
                pass
        return False

    def _remember(self, key: tuple, created: dict, now: datetime) -> None:
        md = created["metadata"]
        with self._lock:
            self._recent[key] = (md["namespace"], md["name"], now)
            self._recent.move_to_end(key)
            while len(self._recent) > self._max_keys:
                self._recent.popitem(last=False)

    def _new_event(self, obj: dict, type_: str, reason: str, message: str, now: datetime) -> dict:
        md = obj.get("metadata") or {}
        namespace = md.get("namespace") or "default"
        return {
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


def _key(obj: dict, type_: str, reason: str, message: str) -> tuple:
    """What makes two Events one, counted: the same object, type, reason and message."""
    return ((obj.get("metadata") or {}).get("uid"), type_, reason, message)


def _bump(event: dict, now) -> dict:
    event["count"] = int(event.get("count") or 1) + 1
    event["lastTimestamp"] = rfc3339(now)
    return event
