"""Exact parsing of counts (K, M, G) and byte sizes (KB/MB/GB, KiB/MiB/GiB)."""

from __future__ import annotations

import re
from fractions import Fraction

from .errors import ConvcostError, describe

COUNT_SUFFIX = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9}
BYTE_SUFFIX = {
    "": 1, "B": 1,
    "KB": 10**3, "MB": 10**6, "GB": 10**9,
    "KIB": 2**10, "MIB": 2**20, "GIB": 2**30,
}  # fmt: skip
_NUMBER = re.compile(r"^\s*([0-9][0-9_]*(?:\.[0-9_]*)?)\s*([A-Za-z]*)\s*$", re.ASCII)
MAX_DIGITS = 60  #: longer numbers are refused before any arithmetic (no count of convcost's has half as many)


def _scaled(value: object, table: dict[str, int], what: str) -> int:
    if isinstance(value, bool):
        raise ConvcostError(f"expected {what}, found {describe(value)}")
    if isinstance(value, int):
        number, factor = Fraction(value), 1
    elif isinstance(value, float) and value.is_integer():
        number, factor = Fraction(int(value)), 1
    elif isinstance(value, (str, float)):
        if isinstance(value, str) and len(value) > MAX_DIGITS + 10:
            raise ConvcostError(f"expected {what}, found a value of {len(value):,} characters")
        match = _NUMBER.match(str(value))
        suffix = match.group(2).upper() if match else ""
        if not match or suffix not in table:
            raise ConvcostError(f"expected {what}, found {describe(value)}")
        number, factor = Fraction(match.group(1).replace("_", "")), table[suffix]
    else:
        raise ConvcostError(f"expected {what}, found {describe(value)}")
    if abs(number) > 10**MAX_DIGITS:
        raise ConvcostError(f"expected {what}, found a number of more than {MAX_DIGITS} digits")
    scaled = number * factor
    if scaled.denominator != 1:
        raise ConvcostError(f"expected {what} (a whole number), found {describe(value)}")
    return int(scaled)


def parse_count(value: object) -> int:
    """``4.5M`` → 4500000; ints and ``1_000`` pass through. Exact, never rounded."""
    return _scaled(value, COUNT_SUFFIX, "a count such as 5, 4.5M or 600K")


def parse_bytes(value: object) -> int:
    """``64MiB`` → 67108864, ``1.5GB`` → 1500000000."""
    return _scaled(value, BYTE_SUFFIX, "a size in bytes such as 512, 64MiB or 1.5GB")
