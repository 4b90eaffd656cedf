"""What the raw store's reads and writes share: the dialect and its engine, the codec of
stored objects, the change log's window, the commit hooks, and the statement key of one object.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import bindparam

from berth.platform.store.codec import Codec
from berth.platform.store.dialect import Dialect
from berth.platform.store.tables import OBJECTS

# Parameters named ``k_*`` are the key of one object in the statements built once (``_GET``,
# ``_UPDATE``); the others are the columns an update sets.
KEY = (
    OBJECTS.c.resource == bindparam("k_resource"),
    OBJECTS.c.namespace == bindparam("k_namespace"),
    OBJECTS.c.name == bindparam("k_name"),
)


def key_params(resource: str, namespace: str, name: str) -> dict:
    return {"k_resource": resource, "k_namespace": namespace, "k_name": name}


class DatabaseBase:
    def __init__(self, url: str, codec: Codec, window: int = 50_000):
        self.dialect = Dialect(url)
        self.engine = self.dialect.engine()
        self.codec = codec
        self.window = window
        self._writes = 0
        self._count_lock = threading.Lock()
        self.on_commit: list[Callable[[int], None]] = []
        self._local = threading.local()  # .batch: (connection, rvs written) inside batch()
