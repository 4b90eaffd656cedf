"""What a person types for a kind (``job``, ``jobs``, ``cj``, ``jobs.batch``, ``job/NAME``) and the
resource type it names, from the registry the server itself serves."""

from __future__ import annotations

from berth.platform.resources import registry
from berth.platform.resources.registry import ResourceType


class KindError(Exception):
    """A kind or ``KIND/NAME`` argument that names nothing Berth serves."""


class UnknownKind(KindError):
    def __init__(self, word: str):
        super().__init__(f'the server doesn\'t have a resource type "{word}"')
        self.word = word


def _names(rt: ResourceType) -> set[str]:
    names = {rt.plural, rt.singular, *rt.short_names}
    if rt.group:
        names |= {f"{rt.plural}.{rt.group}", f"{rt.singular}.{rt.group}"}
    return names


_BY_NAME: dict[str, ResourceType] = {name: rt for rt in registry.ALL for name in _names(rt)}


def resolve_kind(word: str) -> ResourceType:
    """The resource type for a plural, singular, short name or ``plural.group`` (any case)."""
    rt = _BY_NAME.get(word.strip().lower())
    if rt is None:
        raise UnknownKind(word)
    return rt


def split_kind_name(word: str, name: str | None = None) -> tuple[ResourceType, str | None]:
    """``job/pi`` or (``job``, ``pi``) → (JOB, ``pi``); a name may be given only once."""
    if "/" in word:
        kind, _, own = word.partition("/")
        if name:
            raise KindError(
                "there is no need to specify a resource type as a separate "
                "argument when passing arguments in resource/name form"
            )
        return resolve_kind(kind), own or None
    return resolve_kind(word), name


def qualified(rt: ResourceType) -> str:
    """``job.batch`` / ``pod``: how kubectl names a type in ``TYPE/NAME`` output."""
    return f"{rt.singular}.{rt.group}" if rt.group else rt.singular
