"""Wire the control plane's parts together from one ``Settings``: store, feed, client, logs.

The API app, the controllers and the CLI all receive a ``Platform``; nothing here starts Ray
or the controllers (``berth.server`` does that for ``berth up``).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from berth.platform.errors import AlreadyExists
from berth.platform.health import HealthChecks
from berth.platform.logs import LogSource, NoLogs
from berth.platform.resources import registry
from berth.platform.store.client import Client
from berth.platform.store.codec import Codec, load_or_create_key
from berth.platform.store.db import Database
from berth.platform.store.events import EventRecorder
from berth.platform.store.feed import ChangeFeed
from berth.settings import Settings

log = logging.getLogger(__name__)

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@dataclass
class Platform:
    settings: Settings
    db: Database
    feed: ChangeFeed
    client: Client
    logs: LogSource = field(default_factory=NoLogs)
    ready: threading.Event = field(default_factory=threading.Event)
    health: HealthChecks = field(default_factory=HealthChecks)

    def recorder(self, component: str) -> EventRecorder:
        return EventRecorder(self.client, component)

    def close(self) -> None:
        self.feed.stop()
        self.db.close()


def open_platform(settings: Settings, feed_pace: float = 0.0) -> Platform:
    """``feed_pace``: the change feed's ``pace`` (the fewest seconds between two reads of
    the change log)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    codec = Codec(load_or_create_key(settings.data_dir, settings.encryption_key))
    db = Database(settings.resolved_database_url, codec, window=settings.watch_window)
    db.migrate()
    client = Client(db)
    _ensure_namespaces(client)
    feed = ChangeFeed(db, pace=feed_pace).start()
    platform = Platform(settings=settings, db=db, feed=feed, client=client)
    platform.health.add("ping", lambda: (True, "ok"))
    platform.health.add("store", lambda: (True, f"resourceVersion {db.current_rv()}"))
    return platform


def _ensure_namespaces(client: Client) -> None:
    for name in SYSTEM_NAMESPACES:
        if client.try_get(registry.NAMESPACE, "", name) is None:
            try:
                client.create(registry.NAMESPACE, {"metadata": {"name": name}})
            except AlreadyExists:
                pass
