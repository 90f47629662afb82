"""Seeded random weights for a leaf, as numpy arrays in the order and layout of the equivalent
torch module's ``parameters()`` — so both backends can run the very same weights."""

from __future__ import annotations

from typing import Any

from ..arith import prod
from ..kinds import Kind, Shape


def shapes(op: Kind, shape: Shape) -> list[tuple[int, ...]]:
    """Parameter shapes of one leaf, in torch's registration order (see torch_build)."""
    k, c = op.kind, shape[0]
    if k in ("conv", "dwconv", "pwconv"):
        out, groups = op.cout(c), op.ngroups(c)  # type: ignore[attr-defined]
        return [(out, c // groups, *op.kernel)] + ([(out,)] if op.bias else [])  # type: ignore[attr-defined]
    if k == "sepconv":
        mid = c * op.multiplier  # type: ignore[attr-defined]
        return [(mid, 1, *op.kernel), (op.out, mid, *(1,) * op.ndim)] + ([(op.out,)] if op.bias else [])  # type: ignore[attr-defined]
    if k == "convtranspose":
        return [(c, op.out // op.groups, *op.kernel)] + ([(op.out,)] if op.bias else [])  # type: ignore[attr-defined]
    if k == "deformconv":
        oc = op.offset_channels()  # type: ignore[attr-defined]
        return [(oc, c, *op.kernel), (oc,), (op.out, c // op.groups, *op.kernel)] + ([(op.out,)] if op.bias else [])  # type: ignore[attr-defined]
    if k == "chconv":
        return [(1, 1, op.kernel, 1)]  # type: ignore[attr-defined]
    if k == "gchconv":
        return [(op.groups, 1, op.kernel, 1)]  # type: ignore[attr-defined]
    if k == "convcls":
        return [(1, 1, c - op.classes + 1, prod(shape[1:]))]  # type: ignore[attr-defined]
    if k == "linear":
        return [(op.out, prod(shape))] + ([(op.out,)] if op.bias else [])  # type: ignore[attr-defined]
    if k in ("bn", "gn"):
        return [(c,), (c,)]
    if k == "prelu":
        return [(c if op.per_channel else 1,)]  # type: ignore[attr-defined]
    if k == "se":
        h = op.hidden(c)  # type: ignore[attr-defined]
        return [(h, c), (h,), (c, h), (c,)]
    return []


def _fan_in(shape: tuple[int, ...]) -> int:
    return prod(shape[1:]) if len(shape) > 1 else 1


def make(op: Kind, shape: Shape, rng: Any) -> list[Any]:
    """Uniform(−1, 1)/√fan_in weights (float32); norm scales around 1, biases small."""
    import numpy as np

    arrays = []
    scale_fan = None
    for i, s in enumerate(shapes(op, shape)):
        if op.kind in ("bn", "gn"):
            arr = (1.0 + 0.1 * rng.standard_normal(s)) if i == 0 else 0.1 * rng.standard_normal(s)
        elif len(s) == 1 and op.kind != "prelu":  # a bias: scaled like the weight before it
            arr = rng.uniform(-1, 1, s) / np.sqrt(scale_fan or 1)
        else:
            scale_fan = _fan_in(s) if op.kind != "prelu" else 4
            arr = rng.uniform(-1, 1, s) / np.sqrt(scale_fan)
        arrays.append(np.asarray(arr, dtype=np.float32))
    return arrays
