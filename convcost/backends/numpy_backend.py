"""The numpy backend's glue: a step runs its kind's own numpy function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..kinds import Kind, Shape

Fn = Callable[[np.ndarray], np.ndarray]


def compile_leaf(op: Kind, shape: Shape, w: list[np.ndarray]) -> Fn:
    """The kind's own numpy function (each kind owns its implementation)."""
    return op.numpy_fn(shape, w)  # type: ignore[no-any-return]  # kinds return Any: numpy is not imported by kinds/


def to_array(x: Any) -> np.ndarray:
    return np.asarray(x)
