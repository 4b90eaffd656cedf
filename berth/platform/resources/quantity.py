"""Kubernetes resource quantities: ``500m``, ``2``, ``4Gi``, ``1e3``, ``1.5G``.

Parsed to ``Fraction`` so that sums and comparisons are exact; ``to_milli`` and ``to_int``
give the integer units the scheduler works in (millicores for CPU, bytes for memory).
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache

_SUFFIXES = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 1000),
    "": Fraction(1),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
    "Ki": Fraction(2**10),
    "Mi": Fraction(2**20),
    "Gi": Fraction(2**30),
    "Ti": Fraction(2**40),
    "Pi": Fraction(2**50),
    "Ei": Fraction(2**60),
}
_PATTERN = re.compile(
    r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$"
)


class QuantityError(ValueError):
    pass


def parse(value: str | int | float) -> Fraction:
    """The exact value of a quantity; raises ``QuantityError`` with Kubernetes' wording."""
    if isinstance(value, bool):
        raise QuantityError(
            "quantities must match the regular expression "
            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        )
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(str(value))
    if not isinstance(value, str):
        raise QuantityError("quantities must be strings or numbers")
    match = _PATTERN.match(value.strip())
    if not match:
        raise QuantityError(
            "quantities must match the regular expression "
            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        )
    number = Fraction(match.group(1))
    if match.group(2):
        return number * Fraction(10) ** int(match.group(2)[1:])
    return number * _SUFFIXES[match.group(3) or ""]


# The same few quantities ("100m", "1Gi") are read for every pod by the scheduler and the
# node agents; exact Fraction arithmetic costs tens of microseconds each time.
@lru_cache(maxsize=4096, typed=True)
def to_milli(value: str | int | float) -> int:
    """CPU in millicores, rounded up as Kubernetes does (``0.0001`` -> 1m)."""
    milli = parse(value) * 1000
    return int(milli) if milli.denominator == 1 else int(milli) + (1 if milli > 0 else 0)


@lru_cache(maxsize=4096, typed=True)
def to_int(value: str | int | float) -> int:
    """Whole units, rounded up (bytes of memory, count of GPUs)."""
    q = parse(value)
    return int(q) if q.denominator == 1 else int(q) + (1 if q > 0 else 0)


def format_bytes(n: int) -> str:
    """The shortest exact binary form: 1073741824 -> ``1Gi``."""
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        unit = int(_SUFFIXES[suffix])
        if n and n % unit == 0:
            return f"{n // unit}{suffix}"
    return str(n)


def format_milli(m: int) -> str:
    return str(m // 1000) if m % 1000 == 0 else f"{m}m"
