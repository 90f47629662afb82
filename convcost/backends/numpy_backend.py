"""Leaf → a numpy function of x (N, C, *spatial), with the given weights (weights.py order)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..arith import same_pads
from ..kinds import Kind, Shape
from . import numpy_ops as ops

Fn = Callable[[np.ndarray], np.ndarray]


def compile_leaf(op: Kind, shape: Shape, w: list[np.ndarray]) -> Fn:
    k, c = op.kind, shape[0]
    o: Any = op
    if k in ("conv", "dwconv", "pwconv"):
        groups, bias = o.ngroups(c), (w[1] if o.bias else None)
        return lambda x: ops.conv(x, w[0], bias, o.stride, o.padding, o.dilation, groups)
    if k == "sepconv":
        bias = w[2] if o.bias else None
        return lambda x: ops.conv(
            ops.conv(x, w[0], None, o.stride, o.padding, o.dilation, c), w[1], bias, (1,) * o.ndim, ((0, 0),) * o.ndim, (1,) * o.ndim, 1
        )
    if k == "convtranspose":
        bias = w[1] if o.bias else None
        return lambda x: ops.conv_transpose(x, w[0], bias, o.stride, o.padding, o.dilation, o.output_padding, o.groups)
    if k == "deformconv":
        if o.ndim != 2:
            raise NotImplementedError("deformconv executes in 2-D only")
        return lambda x: ops.deform_conv2d(x, w, o)
    if k == "chconv":
        return lambda x: ops.channel_conv(x, w[0], o.stride, o.padding[0])
    if k == "gchconv":
        pads = same_pads(c, o.kernel, o.groups)
        return lambda x: ops.channel_conv(x, w[0], o.groups, pads)
    if k == "convcls":
        return lambda x: ops.conv(x.reshape(x.shape[0], 1, c, -1), w[0], None, (1, 1), ((0, 0), (0, 0)), (1, 1), 1).reshape(x.shape[0], -1)
    if k in ("maxpool", "avgpool"):
        out = op.out_shape(shape)[1:]
        return lambda x: ops.pool(x, k[:3], o.kernel, o.stride, o.padding, o.dilation, out)
    if k in ("gap", "gmp"):
        axes = tuple(range(2, len(shape) + 1))
        return (lambda x: x.mean(axis=axes, keepdims=True)) if k == "gap" else (lambda x: x.max(axis=axes, keepdims=True))
    if k == "linear":
        bias = w[1] if o.bias else 0
        return lambda x: x.reshape(x.shape[0], -1) @ w[0].T + bias
    if k == "flatten":
        return lambda x: x.reshape(x.shape[0], -1)
    if k == "bn":
        scale = w[0] / np.sqrt(np.float32(1 + 1e-5))
        return lambda x: x * scale.reshape(ops.channel_shape(x)) + w[1].reshape(ops.channel_shape(x))
    if k == "gn":
        g = o.groups

        def group_norm(x: np.ndarray) -> np.ndarray:
            y = x.reshape(x.shape[0], g, -1)
            y = (y - y.mean(axis=2, keepdims=True)) / np.sqrt(y.var(axis=2, keepdims=True) + 1e-5)
            return y.reshape(x.shape) * w[0].reshape(ops.channel_shape(x)) + w[1].reshape(ops.channel_shape(x))

        return group_norm
    if k == "softmax":
        return ops.softmax
    if k in ops.ACTIVATIONS:
        return ops.ACTIVATIONS[k]  # type: ignore[no-any-return]
    if k == "prelu":
        return lambda x: np.where(x >= 0, x, x * (w[0].reshape(ops.channel_shape(x)) if w[0].size > 1 else w[0]))
    if k == "dropout":
        return lambda x: x
    if k == "se":

        def excite(x: np.ndarray) -> np.ndarray:
            s = x.mean(axis=tuple(range(2, x.ndim))) if x.ndim > 2 else x
            s = np.maximum(s @ w[0].T + w[1], 0) @ w[2].T + w[3]
            return x * (1 / (1 + np.exp(-s))).reshape(*s.shape, *(1,) * (x.ndim - 2))

        return excite
    if k == "shuffle":
        g = o.groups
        return lambda x: np.ascontiguousarray(x.reshape(x.shape[0], g, -1, *x.shape[2:]).swapaxes(1, 2)).reshape(x.shape)
    if k == "chunk":
        size, index = c // o.chunks, o.index
        return lambda x: x[:, index * size : (index + 1) * size]
    if k == "upsample":
        return lambda x: ops.upsample(x, o.scale, o.mode)
    raise NotImplementedError(f"no numpy kernel for layer kind '{k}'")


def merge(kind: str) -> Callable[[list[np.ndarray]], np.ndarray]:
    """The merge of a residual (sum) or a concat (channels)."""
    return (lambda xs: xs[0] + xs[1]) if kind == "residual" else (lambda xs: np.concatenate(xs, axis=1))


def to_array(x: Any) -> np.ndarray:
    return np.asarray(x)
