"""List-then-watch in a background thread, as client-go's reflector does, for the follower.

Every object seen is put on a queue as ``(topic, event_type, object)``; the consumer keeps the
state. A watch the server ends is resumed from the last resourceVersion seen; an expired one
(410) starts over with a fresh list; a connection that drops is retried after a pause.
"""

from __future__ import annotations

import queue
import threading

from berth.cli.apiclient import ApiClient, ApiError, ConnectionProblem

WATCH_SECONDS = 60
RETRY_SECONDS = 1.0


class Expired(Exception):
    pass


class ListWatch(threading.Thread):
    def __init__(
        self,
        client: ApiClient,
        path: str,
        params: dict,
        topic: str,
        events: queue.Queue,
        stop: threading.Event,
    ):
        super().__init__(daemon=True, name=f"watch-{topic}")
        self.client, self.path, self.params = client, path, params
        self.topic, self.events, self.stop = topic, events, stop

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                version = self._list()
                while not self.stop.is_set():
                    version = self._watch(version)
            except Expired:
                continue
            except (ApiError, ConnectionProblem) as exc:
                self.events.put((self.topic, "ERROR", exc))
                self.stop.wait(RETRY_SECONDS)

    def _list(self) -> str:
        listed = self.client.get_json(self.path, self.params)
        for item in listed.get("items") or []:
            self.events.put((self.topic, "ADDED", item))
        return (listed.get("metadata") or {}).get("resourceVersion", "")

    def _watch(self, version: str) -> str:
        params = {
            **self.params,
            "resourceVersion": version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(WATCH_SECONDS),
        }
        for event in self.client.watch(self.path, params):
            if self.stop.is_set():
                break
            kind, obj = event.get("type"), event.get("object") or {}
            if kind == "ERROR":
                if obj.get("code") == 410:
                    raise Expired()
                raise ApiError(obj)
            version = (obj.get("metadata") or {}).get("resourceVersion") or version
            if kind != "BOOKMARK":
                self.events.put((self.topic, kind, obj))
        return version
