"""Number and shape formatting shared by the renderers (counts in SI, bytes in binary units)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

_SI = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K"))


def count(n: int) -> str:
    """Human-readable count: 999, 1.23K, 12.3M, 138M (three significant digits); past 999T in
    scientific notation (exact integers of any size, never a float overflow)."""
    if abs(n) >= 1000 * 10**12:
        from decimal import Decimal

        return format(Decimal(n), ".2e").replace("+", "")
    for scale, suffix in _SI:
        if abs(n) >= scale:
            value = n / scale
            digits = 2 if abs(value) < 10 else 1 if abs(value) < 100 else 0
            return f"{value:.{digits}f}{suffix}"
    return str(n)


def nbytes(n: int) -> str:
    """Bytes in binary units: 512 B, 1.5 KiB, 12.3 MiB."""
    value: float = n
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError


def shape(dims: tuple[int, ...] | list[int], sep: str = "×") -> str:
    """``3×224×224``; ``sep="x"`` for CSV (plain ASCII that spreadsheets keep as text)."""
    return sep.join(str(d) for d in dims)


def number(value: Fraction | int | float) -> int | float:
    """An exact value for JSON: an int when whole, else the nearest float."""
    if type(value) is int:  # the common case, before isinstance(…, Fraction): an ABC check, ~10× slower
        return value
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else float(value)
    return value


def axes(values: tuple[Any, ...], sep: str = "×") -> str:
    """One value when every axis agrees, else 7×1 (``sep="x"`` for CSV)."""
    shown = [str(number(v)) for v in values]
    return shown[0] if len(set(shown)) == 1 else sep.join(shown)


def rf_text(rf: Any, wrap: bool = False) -> str:
    """Receptive field size and effective stride: ``427 /32``; — when the layer sees everything.
    ``wrap``: axes that differ put the stride on a second line (narrow terminal columns)."""
    if rf is None:
        return "—"
    size, stride = axes(rf.size), axes(rf.stride)
    return f"{size}\n/{stride}" if wrap and ("×" in size or "×" in stride) else f"{size} /{stride}"


def percent(value: Fraction | float | None) -> str:
    if value is None:
        return "—"
    return "100%" if value == 1 else f"{float(value) * 100:.1f}%"


def ratio(value: float) -> str:
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"
