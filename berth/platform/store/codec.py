"""Objects to and from the bytes the database holds; Secrets are encrypted at rest.

Secrets are sealed whole with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) so the
database file and its change log never hold a Secret value in plain text. The key lives in
``<data dir>/secret.key`` (created on first start, mode 0600) unless a key is given by setting.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson
from cryptography.fernet import Fernet, InvalidToken

_SEALED = "fernet:"


class Codec:
    def __init__(self, key: bytes | str, sealed_resources: frozenset[str] = frozenset({"secrets"})):
        self._fernet = Fernet(key)
        self._sealed = sealed_resources

    def encode(self, resource: str, obj: dict) -> str:
        raw = orjson.dumps(obj)
        if resource in self._sealed:
            return _SEALED + self._fernet.encrypt(raw).decode()
        return raw.decode()

    def seals(self, resource: str) -> bool:
        """Whether ``resource`` is stored sealed (its bytes say nothing in plain text)."""
        return resource in self._sealed

    def decode(self, resource: str, text: str) -> dict:
        if text.startswith(_SEALED):
            try:
                text = self._fernet.decrypt(text[len(_SEALED) :].encode()).decode()
            except InvalidToken as exc:
                raise RuntimeError(
                    f"cannot decrypt a stored {resource} object: wrong encryption key"
                ) from exc
        return orjson.loads(text)


def load_or_create_key(data_dir: Path, configured: str | None) -> bytes:
    if configured:
        return configured.encode()
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_bytes().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key
