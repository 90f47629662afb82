"""Converters for layer arguments: YAML value (+ number of spatial axes) → exact Python value.

Each raises ConvcostError("expected …, found …"); the caller adds the argument's location.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container
from typing import Any

from ..errors import ConvcostError, describe
from ..units import parse_count

Pads = tuple[tuple[int, int], ...]
SAME = "same"
REQUIRED = object()
Converter = Callable[[Any, int], Any]

MAX_INT = 10**18  #: the largest size, stride, count… a layer argument may have: every count stays exact and printable

ACTIVATIONS = ("relu", "relu6", "leakyrelu", "sigmoid", "tanh", "silu", "hswish", "hsigmoid", "gelu", "softmax", "identity")
GATES = ("sigmoid", "hsigmoid")  #: what may gate a squeeze-and-excitation (MobileNetV3 uses hsigmoid)
#: Other frameworks' names of those activations (for `act:` and for a kind written as a layer):
#: each is refused with the name to write instead, never read silently.
ACTIVATION_ALIASES = {
    "swish": "silu",
    "hardswish": "hswish",
    "hard_swish": "hswish",
    "h_swish": "hswish",
    "relu_6": "relu6",
    "leaky_relu": "leakyrelu",
    "hardsigmoid": "hsigmoid",
    "hard_sigmoid": "hsigmoid",
    "h_sigmoid": "hsigmoid",
}
_DIMS = re.compile(r"^\(?\s*(\d+)((?:\s*[x×X,*]\s*\d+)+)\s*\)?$")


def alias_hint(name: object, options: Container[str]) -> str:
    """' (did you mean 'silu'? …)' when ``name`` is another framework's name of one of ``options``, else ''."""
    known = ACTIVATION_ALIASES.get(str(name).lower())
    if known is None or known not in options:
        return ""
    return f" (did you mean '{known}'? convcost calls {str(name).lower()} {known})"


def dims_hint(value: object, ndim: int | None = None) -> str:
    """'; write 3 or [3, 3]' for sizes written as text (``3x3``, ``(3, 3)``), else ''. ``ndim``:
    the spatial axes of a window argument (which also takes one int for all); None for a shape."""
    found = _DIMS.match(value.strip()) if isinstance(value, str) else None
    if not found:
        return ""
    sizes = [found.group(1), *re.findall(r"\d+", found.group(2))]
    if ndim is not None and len(set(sizes)) == 1:
        return f"; write {sizes[0]} or [{', '.join(sizes[:1] * ndim)}]"
    return f"; write [{', '.join(sizes)}]"


def _int(value: Any, low: int, what: str) -> int:
    if isinstance(value, bool) or isinstance(value, (list, dict)) or value is None:
        raise ConvcostError(f"expected {what}, found {describe(value)}")
    try:
        number = parse_count(value)
    except ConvcostError:
        raise ConvcostError(f"expected {what}, found {describe(value)}") from None
    if number < low:
        raise ConvcostError(f"expected {what}, found {number}")
    if number > MAX_INT:
        raise ConvcostError(f"expected {what} of at most 10^18, found {describe(number)}")
    return number


def pos_int(value: Any, ndim: int = 0) -> int:
    return _int(value, 1, "a positive integer")


def nonneg_int(value: Any, ndim: int = 0) -> int:
    return _int(value, 0, "a non-negative integer")


def _axes(value: Any, ndim: int, low: int, what: str) -> tuple[int, ...]:
    if isinstance(value, list):
        if len(value) != ndim:
            raise ConvcostError(f"expected {what} or a list of {ndim} (one per spatial axis), found {describe(value)}")
        return tuple(_int(v, low, what) for v in value)
    hint = dims_hint(value, ndim)
    if hint:
        raise ConvcostError(f"expected {what} or a list of {ndim} (one per spatial axis), found {describe(value)}{hint}")
    return (_int(value, low, what),) * ndim


def pos_axes(value: Any, ndim: int) -> tuple[int, ...]:
    """An int for every spatial axis, or one per axis."""
    return _axes(value, ndim, 1, "a positive integer")


def nonneg_axes(value: Any, ndim: int) -> tuple[int, ...]:
    return _axes(value, ndim, 0, "a non-negative integer")


def padding(value: Any, ndim: int) -> Pads | str:
    """int | [int per axis] | [[before, after] per axis] | 'same' | 'valid' → explicit pairs or SAME."""
    if isinstance(value, str) and value.lower() in ("same", "valid"):
        return SAME if value.lower() == "same" else ((0, 0),) * ndim
    if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        if len(value) != ndim or any(len(v) != 2 for v in value):
            raise ConvcostError(f"expected {ndim} [before, after] pair(s), one per spatial axis, found {describe(value)}")
        return tuple((nonneg_int(lo), nonneg_int(hi)) for lo, hi in value)
    try:
        return tuple((p, p) for p in nonneg_axes(value, ndim))
    except ConvcostError:
        raise ConvcostError(
            f"expected a padding: a non-negative integer, a list of {ndim}, [[before, after], ...], 'same' or 'valid'; "
            f"found {describe(value)}{dims_hint(value, ndim)}"
        ) from None


def boolean(value: Any, ndim: int = 0) -> bool:
    if not isinstance(value, bool):
        raise ConvcostError(f"expected true or false, found {describe(value)}")
    return value


def probability(value: Any, ndim: int = 0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ConvcostError(f"expected a probability in [0, 1), found {describe(value)}")
    return float(value)


def number(value: Any, ndim: int = 0) -> float:
    """A finite number (an int or a float)."""
    import math

    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConvcostError(f"expected a finite number, found {describe(value)}")
    return float(value)


def choice(*options: str) -> Callable[[Any, int], str]:
    def convert(value: Any, ndim: int = 0) -> str:
        if not isinstance(value, str) or value.lower() not in options:
            raise ConvcostError(f"expected one of {', '.join(options)}, found {describe(value)}{alias_hint(value, options)}")
        return value.lower()

    convert.options = options  # type: ignore[attr-defined]  # read by the reference and the schema
    return convert


def activation(value: Any, ndim: int = 0) -> str | None:
    """An activation name for the ``act:`` shorthand; ``none`` switches it off."""
    if value is None or (isinstance(value, str) and value.lower() == "none") or value is False:
        return None
    return choice(*ACTIVATIONS)(value, ndim)


def text(value: Any, ndim: int = 0) -> str:
    """A non-empty string of up to 200 characters (an op's name as its source gives it)."""
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise ConvcostError(f"expected a string of 1 to 200 characters, found {describe(value)}")
    return value


def shape_list(value: Any, ndim: int) -> tuple[int, ...]:
    """A tensor shape without the batch: channels, then one size per spatial axis."""
    if not isinstance(value, list) or len(value) != ndim + 1:
        raise ConvcostError(f"expected a shape: a list of {ndim + 1} (channels, then each spatial size), found {describe(value)}")
    return tuple(pos_int(v) for v in value)
