"""An object encoded before its write transaction, its resourceVersion spliced in after.

A write learns its resourceVersion only once it holds the write lock (SQLite) or the revision
row's lock (PostgreSQL), and the stored JSON carries that version. Encoding the object there
kept every other writer waiting for it. Here it is encoded first with a marker in place of the
version, and inside the hold the marker is replaced by the number (one ``str.replace``), which
gives the bytes encoding it there would have given: the key is where it would be, the value
the same string.

The marker is ``"resourceVersion":"<token>"`` with a token drawn at random per process: inside
a JSON string a quote is escaped, so those characters can only be a key and its value, and no
client can know the token to write it elsewhere in an object. Sealed objects (Secrets) are
encrypted whole, so they cannot be spliced: they are encoded in the hold, as before.
"""

from __future__ import annotations

import secrets

from berth.platform.store.codec import Codec
from berth.platform.store.columns import indexed_columns

_TOKEN = secrets.token_hex(12)
MARK = f'"resourceVersion":"{_TOKEN}"'


class Encoded:
    """``data``: the stored JSON with ``MARK`` for the version; ``columns``: the indexed
    columns (``indexed_columns``)."""

    __slots__ = ("columns", "data")

    def __init__(self, data: str, columns: dict):
        self.data = data
        self.columns = columns

    def at(self, rv: int) -> str:
        """The stored JSON of the object at resourceVersion ``rv``."""
        return self.data.replace(MARK, f'"resourceVersion":"{rv}"', 1)


def encode_ahead(codec: Codec, resource: str, obj: dict) -> Encoded | None:
    """``obj`` encoded with the marker for its version; None for a sealed resource. ``obj``
    is left as it was (a version it lacked goes last, where the write will set it)."""
    if codec.seals(resource):
        return None
    md = obj["metadata"]
    had = "resourceVersion" in md
    before = md.get("resourceVersion")
    md["resourceVersion"] = _TOKEN
    try:
        data = codec.encode(resource, obj)
    finally:
        if had:
            md["resourceVersion"] = before
        else:
            del md["resourceVersion"]
    return Encoded(data, indexed_columns(resource, obj))
