"""Vectorised numpy kernels, channels first with a batch axis: x is (N, C, *spatial).

Convolutions: explicit (possibly asymmetric or negative: cropping) padding, a strided window
view, then one BLAS matmul per group (im2col), or a sum over taps for depthwise convs.
Transposed convs are convs of the stride-dilated input with the flipped kernel. Matches
PyTorch's semantics (cross-correlation; pooling with ceil_mode; align_corners=False).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.lib.stride_tricks import as_strided

Pads = tuple[tuple[int, int], ...]


def pad(x: np.ndarray, pads: Pads, value: float = 0.0) -> np.ndarray:
    """Pad the trailing spatial axes by (lo, hi); negative amounts crop."""
    crop = tuple(slice(max(-lo, 0), x.shape[2 + i] - max(-hi, 0)) for i, (lo, hi) in enumerate(pads))
    x = x[(slice(None), slice(None), *crop)]
    widths = [(0, 0), (0, 0)] + [(max(lo, 0), max(hi, 0)) for lo, hi in pads]
    if any(w != (0, 0) for w in widths):
        x = np.pad(x, widths, constant_values=value)
    return x


def windows(x: np.ndarray, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...], out: tuple[int, ...]) -> np.ndarray:
    """A view (N, C, *out, *kernel) of the windows of an already padded x."""
    nd = len(kernel)
    spatial = x.strides[2:]
    shape = x.shape[:2] + tuple(out) + tuple(kernel)
    strides = x.strides[:2] + tuple(st * s for st, s in zip(spatial, stride)) + tuple(st * d for st, d in zip(spatial, dilation))
    assert len(shape) == 2 + 2 * nd
    return as_strided(x, shape, strides, writeable=False)


def conv(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: tuple[int, ...], pads: Pads, dilation: tuple[int, ...], groups: int
) -> np.ndarray:
    """Grouped, strided, dilated convolution; w is (out, C/groups, *kernel) as in PyTorch."""
    x = pad(x, pads)
    n, c = x.shape[:2]
    kernel, nd = w.shape[2:], w.ndim - 2
    out_sp = tuple((x.shape[2 + i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in range(nd))
    view = windows(x, kernel, stride, dilation, out_sp)  # (N, C, *out, *k)
    cout, cg = w.shape[0], c // groups
    if cg == 1 and cout == groups:  # depthwise: a sum over taps, vectorised over everything else
        y = np.zeros((n, cout, *out_sp), dtype=x.dtype)
        scratch = np.empty_like(y)
        taps = w.reshape(cout, -1)
        for t, tap in enumerate(np.ndindex(*kernel)):
            np.multiply(view[(Ellipsis, *tap)], taps[:, t].reshape(cout, *(1,) * nd), out=scratch)
            y += scratch
    else:  # im2col: one copy into (N, g, C/g·K, P), then a batched BLAS matmul
        p, k = int(np.prod(out_sp)), int(np.prod(kernel))
        cols = np.ascontiguousarray(view.transpose(0, 1, *range(2 + nd, 2 + 2 * nd), *range(2, 2 + nd))).reshape(n, groups, cg * k, p)
        y = np.matmul(w.reshape(groups, cout // groups, cg * k), cols).reshape(n, cout, *out_sp)
    if b is not None:
        y = y + b.reshape(-1, *(1,) * nd)
    return np.ascontiguousarray(y)


def conv_transpose(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: tuple[int, ...], pads: Pads,
                   dilation: tuple[int, ...], output_padding: tuple[int, ...], groups: int) -> np.ndarray:  # fmt: skip
    """PyTorch ConvTranspose: w is (C_in, out/groups, *kernel)."""
    n, c = x.shape[:2]
    nd, kernel = x.ndim - 2, w.shape[2:]
    if any(s > 1 for s in stride):
        up = np.zeros((n, c, *((size - 1) * s + 1 for size, s in zip(x.shape[2:], stride))), dtype=x.dtype)
        up[(slice(None), slice(None), *(slice(None, None, s) for s in stride))] = x
        x = up
    full = tuple((d * (k - 1) - lo, d * (k - 1) - hi + op) for (lo, hi), k, d, op in zip(pads, kernel, dilation, output_padding))
    cin_g, cout_g = c // groups, w.shape[1]
    flipped = np.flip(w, axis=tuple(range(2, 2 + nd)))
    w2 = flipped.reshape(groups, cin_g, cout_g, *kernel).transpose(0, 2, 1, *range(3, 3 + nd)).reshape(groups * cout_g, cin_g, *kernel)
    return conv(x, np.ascontiguousarray(w2), b, (1,) * nd, full, dilation, groups)


def bilinear_gather(x: np.ndarray, py: np.ndarray, px: np.ndarray) -> np.ndarray:
    """x (N, G, C, H, W) sampled at (py, px) of shape (N, G, *pos); zero outside → (N, G, C, *pos)."""
    n, g, c, h, w = x.shape
    pos = py.shape[2:]
    py, px = py.reshape(n, g, 1, -1), px.reshape(n, g, 1, -1)
    y0, x0 = np.floor(py), np.floor(px)
    flat = x.reshape(n, g, c, h * w)
    out = np.zeros((n, g, c, py.shape[-1]), dtype=x.dtype)
    for yy, wy in ((y0, 1 - (py - y0)), (y0 + 1, py - y0)):
        for xx, wx in ((x0, 1 - (px - x0)), (x0 + 1, px - x0)):
            inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
            index = (np.clip(yy, 0, h - 1) * w + np.clip(xx, 0, w - 1)).astype(np.int64)
            out += np.take_along_axis(flat, np.broadcast_to(index, (n, g, c, index.shape[-1])), axis=3) * (wy * wx * inside)
    return out.reshape(n, g, c, *pos)


def deform_conv2d(x: np.ndarray, weights: list[np.ndarray], op: object) -> np.ndarray:
    """Deformable conv v1/v2 in 2-D, the same layout as the torch backend (torchvision's):
    offsets (dy, dx) per tap and offset group, then an optional sigmoid mask."""
    ow, ob, mw = weights[:3]
    mb = weights[3] if len(weights) > 3 else None
    (kh, kw), stride, dil, og = op.kernel, op.stride, op.dilation, op.offset_groups  # type: ignore[attr-defined]  # op is a DeformConv
    x = pad(x, op.padding)  # type: ignore[attr-defined]  # op is a DeformConv
    n, c, h, w = x.shape
    raw = conv(x, ow, ob, stride, ((0, 0), (0, 0)), dil, 1)
    ho, wo, taps = raw.shape[2], raw.shape[3], kh * kw
    off = raw[:, : 2 * taps * og].reshape(n, og, taps, 2, ho, wo)
    ky, kx = np.meshgrid(np.arange(kh) * dil[0], np.arange(kw) * dil[1], indexing="ij")
    oy, ox = np.meshgrid(np.arange(ho) * stride[0], np.arange(wo) * stride[1], indexing="ij")
    py = oy[None] + ky.reshape(-1, 1, 1) + off[:, :, :, 0]
    px = ox[None] + kx.reshape(-1, 1, 1) + off[:, :, :, 1]
    sampled = bilinear_gather(x.reshape(n, og, c // og, h, w), py.astype(x.dtype), px.astype(x.dtype))
    if op.modulated:  # type: ignore[attr-defined]  # op is a DeformConv
        mask = 1 / (1 + np.exp(-raw[:, 2 * taps * og :].reshape(n, og, 1, taps, ho, wo)))
        sampled = sampled * mask
    cols = sampled.reshape(n, c, kh, kw, ho, wo).transpose(0, 1, 4, 2, 5, 3).reshape(n, c, ho * kh, wo * kw)
    return conv(cols, mw, mb, (kh, kw), ((0, 0), (0, 0)), (1, 1), op.groups)  # type: ignore[attr-defined]  # op is a DeformConv


def channel_conv(x: np.ndarray, w: np.ndarray, stride: int, pads: tuple[int, int]) -> np.ndarray:
    """Channel-wise convs: w (outputs, 1, d_c, 1) slides over channels; output channel order is
    (output, position) as the torch backend's reshape."""
    n, c = x.shape[:2]
    flat = x.reshape(n, 1, c, -1)
    y = conv(flat, w, None, (stride, 1), (pads, (0, 0)), (1, 1), 1)  # (N, outputs, C', P)
    return y.reshape(n, -1, *x.shape[2:])


def pool(x: np.ndarray, kind: str, kernel: tuple[int, ...], stride: tuple[int, ...], pads: Pads, dilation: tuple[int, ...],
         out: tuple[int, ...]) -> np.ndarray:  # fmt: skip
    """Max or average pooling to the given output size (ceil_mode already decided by it).
    Average pooling counts padding zeros, clipped to the padded input (PyTorch's default)."""
    nd = len(kernel)
    fill = -np.inf if kind == "max" else 0.0
    padded = pad(x, pads, fill)
    extra = tuple(
        max((o - 1) * s + d * (k - 1) + 1 - padded.shape[2 + i], 0) for i, (o, s, k, d) in enumerate(zip(out, stride, kernel, dilation))
    )
    full = pad(padded, tuple((0, e) for e in extra), fill)
    view = windows(full, kernel, stride, dilation, out)
    axes = tuple(range(2 + nd, 2 + 2 * nd))
    if kind == "max":
        return np.ascontiguousarray(view.max(axis=axes))
    total = view.sum(axis=axes)
    divisor = np.ones(out, dtype=x.dtype)
    for i, (o, s, k, d) in enumerate(zip(out, stride, kernel, dilation)):
        starts = np.arange(o) * s
        inside = np.minimum(starts + d * (k - 1) + 1, padded.shape[2 + i]) - starts
        counts = (inside + d - 1) // d
        divisor = divisor * counts.reshape(*(1,) * i, o, *(1,) * (nd - i - 1))
    return np.ascontiguousarray(total / divisor)


def upsample(x: np.ndarray, scale: tuple[int, ...], mode: str) -> np.ndarray:
    for axis, s in enumerate(scale, start=2):
        if s == 1:
            continue
        if mode == "nearest":
            x = np.repeat(x, s, axis=axis)
            continue
        n = x.shape[axis]
        src = np.maximum((np.arange(n * s) + 0.5) / s - 0.5, 0.0)
        i0 = np.floor(src).astype(np.int64)
        i1 = np.minimum(i0 + 1, n - 1)
        lam = (src - i0).astype(x.dtype).reshape(-1, *(1,) * (x.ndim - axis - 1))
        x = np.take(x, i0, axis=axis) * (1 - lam) + np.take(x, i1, axis=axis) * lam
    return np.ascontiguousarray(x)


def erf(x: np.ndarray) -> np.ndarray:
    """Abramowitz & Stegun 7.1.26 refined: |error| < 1.5e-7, enough for float32."""
    t = 1.0 / (1.0 + 0.3275911 * np.abs(x))
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return np.sign(x) * (1.0 - poly * np.exp(-x * x))


def channel_shape(x: np.ndarray) -> tuple[int, ...]:
    """Shape that broadcasts a per-channel vector over x."""
    return (1, x.shape[1], *(1,) * (x.ndim - 2))


ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.clip(x, 0, 6),
    "leakyrelu": lambda x: np.where(x >= 0, x, 0.01 * x),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
    "silu": lambda x: x / (1 + np.exp(-x)),
    "hswish": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "hsigmoid": lambda x: np.clip(x + 3, 0, 6) / 6,
    "gelu": lambda x: 0.5 * x * (1 + erf(x / math.sqrt(2))),
    "identity": lambda x: x,
}


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
