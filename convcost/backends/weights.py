"""Seeded random weights for a leaf, as numpy arrays in the order and layout of the equivalent
torch module's ``parameters()`` — so both backends can run the very same weights."""

from __future__ import annotations

from typing import Any

from ..arith import prod
from ..kinds import Kind, Shape


def shapes(op: Kind, shape: Shape) -> list[tuple[int, ...]]:
    """Parameter shapes of one leaf, in torch's registration order: the kind states them."""
    return op.param_shapes(shape)


def _fan_in(shape: tuple[int, ...]) -> int:
    return prod(shape[1:]) if len(shape) > 1 else 1


def make(op: Kind, shape: Shape, rng: Any) -> list[Any]:
    """Uniform(−1, 1)/√fan_in weights (float32); norm scales around 1, biases small."""
    import numpy as np

    arrays = []
    scale_fan = None
    for i, s in enumerate(shapes(op, shape)):
        if op.INIT == "norm":
            arr = (1.0 + 0.1 * rng.standard_normal(s)) if i == 0 else 0.1 * rng.standard_normal(s)
        elif len(s) == 1 and op.INIT != "slope":  # a bias: scaled like the weight before it
            arr = rng.uniform(-1, 1, s) / np.sqrt(scale_fan or 1)
        else:
            scale_fan = _fan_in(s) if op.INIT != "slope" else 4
            arr = rng.uniform(-1, 1, s) / np.sqrt(scale_fan)
        arrays.append(np.asarray(arr, dtype=np.float32))
    return arrays
