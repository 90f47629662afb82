"""The numpy backend's glue: a leaf runs its kind's own numpy function; merges sum or concatenate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..kinds import Kind, Shape

Fn = Callable[[np.ndarray], np.ndarray]


def compile_leaf(op: Kind, shape: Shape, w: list[np.ndarray]) -> Fn:
    """The kind's own numpy function (each kind owns its implementation)."""
    return op.numpy_fn(shape, w)  # type: ignore[no-any-return]  # kinds return Any: numpy is not imported by kinds/


def merge(kind: str) -> Callable[[list[np.ndarray]], np.ndarray]:
    """The merge of a residual (sum) or a concat (channels)."""
    return (lambda xs: xs[0] + xs[1]) if kind == "residual" else (lambda xs: np.concatenate(xs, axis=1))


def to_array(x: Any) -> np.ndarray:
    return np.asarray(x)
