"""Vectorised numpy kernels, channels first with a batch axis: x is (N, C, *spatial).

Convolutions take explicit (possibly asymmetric or negative: cropping) padding and are a sum
over their taps on the input laid out as flat, stride-phase rows (``flat_grid``): one BLAS
matmul per tap, or one multiply-add per tap for depthwise convs; narrow groups copy their
windows into one matmul instead (im2col). Transposed convs are one matmul followed by a
scatter-add of each tap (col2im). Work that BLAS
does not do (depthwise taps, pools, activations, norms) runs on blocks of (sample, channel)
rows small enough to stay in cache, float32 in place where it is safe. Matches PyTorch's
semantics (cross-correlation; pooling with ceil_mode; align_corners=False).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.lib.stride_tricks import as_strided

Pads = tuple[tuple[int, int], ...]

TAPS_FROM = 16  #: a conv whose groups have fewer input channels than this runs as im2col (see conv)
BLOCK = 1 << 17  #: elements per block: 512 KiB of float32, in a core's L2 with its scratch (best of 2¹³–2¹⁹ measured)


def in_blocks(rows: int, row_elements: int, work: Callable[[slice], None]) -> None:
    """Call ``work(rows a:b)`` over consecutive blocks of about BLOCK elements, so that a chain
    of passes over one block stays in cache. One thread: on the 2-core machine measured, a
    thread pool over the blocks ran 1.1–3× slower (every ufunc call hands the GIL over); BLAS
    calls still use their own threads (``--threads``)."""
    per = max(1, BLOCK // max(row_elements, 1))
    for start in range(0, rows, per):
        work(slice(start, min(start + per, rows)))


def elementwise(fn: Callable[[np.ndarray, np.ndarray], object]) -> Callable[[np.ndarray], np.ndarray]:
    """x → fn applied in blocks: ``fn(x_block, out_block)`` writes its result into out_block
    (it may use out_block as scratch: it never aliases x)."""

    def run(x: np.ndarray) -> np.ndarray:
        flat = np.ascontiguousarray(x).reshape(-1)
        out = np.empty_like(flat)
        for start in range(0, flat.size, BLOCK):
            fn(flat[start : start + BLOCK], out[start : start + BLOCK])
        return out.reshape(x.shape)

    return run


def _scaled(x: np.ndarray, factor: np.ndarray, offset: np.ndarray | None = None) -> np.ndarray:
    """x (N, C, …) as N·C rows, each times its entry of the column ``factor`` (N·C, 1), plus its
    entry of ``offset``: a block of rows at a time."""
    rows = np.ascontiguousarray(x).reshape(factor.shape[0], -1)
    out = np.empty_like(rows)

    def work(r: slice) -> None:
        np.multiply(rows[r], factor[r], out=out[r])
        if offset is not None:
            out[r] += offset[r]

    in_blocks(rows.shape[0], rows.shape[1], work)
    return out.reshape(x.shape)


def affine(x: np.ndarray, scale: np.ndarray, shift: np.ndarray | None = None) -> np.ndarray:
    """x · scale + shift per channel (norms in eval mode, layer scale)."""
    n, c = x.shape[:2]

    def column(v: np.ndarray) -> np.ndarray:
        return np.tile(np.asarray(v, dtype=x.dtype).reshape(c), n).reshape(n * c, 1)

    return _scaled(x, column(scale), None if shift is None else column(shift))


def scale_rows(x: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """x (N, C, …) times a scale per sample and channel (N, C): a squeeze-excitation gate."""
    return _scaled(x, scale.reshape(-1, 1).astype(x.dtype, copy=False))


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
    """Grouped, strided, dilated convolution; w is (out, C/groups, *kernel) as in PyTorch.

    The input is laid out as one flat row per channel (see ``flat_grid``) in which every tap
    reads a contiguous slice: the conv is a sum over taps of one matmul each (no im2col copy),
    or of one multiply-add each for depthwise convs, for the whole batch at once. Each tap's
    matmul adds a pass over the output, so groups narrower than TAPS_FROM channels (a 7×7 stem
    on RGB) copy their windows into one matrix instead (im2col)."""
    nd = w.ndim - 2
    cout, cg = w.shape[0], x.shape[1] // groups
    if cg == 1 and cout != x.shape[1]:  # a channel multiplier: output channel o reads input channel o // multiplier
        x, groups = np.repeat(x, cout // x.shape[1], axis=1), cout
    if 1 < cg < TAPS_FROM:
        y = im2col_conv(pad(x, pads), w, stride, dilation, groups)
    else:
        grid = flat_grid(x, pads, tuple(w.shape[2:]), stride, dilation)
        if cg == 1:
            acc = depthwise_taps(grid.rows, w.reshape(cout, -1), grid.span, grid.width, grid.shifts)
        else:
            acc = matmul_taps(grid.rows, w, groups, grid.span, grid.width, grid.shifts)
        y = grid.unflatten(acc)
    if b is not None:
        y += b.reshape(-1, *(1,) * nd)
    return y


def im2col_conv(x: np.ndarray, w: np.ndarray, stride: tuple[int, ...], dilation: tuple[int, ...], groups: int) -> np.ndarray:
    """A padded x: one copy of its windows into (N, g, C/g·K, P), then a batched BLAS matmul."""
    n, nd = x.shape[0], w.ndim - 2
    kernel, cout, cg = w.shape[2:], w.shape[0], x.shape[1] // groups
    out = tuple((x.shape[2 + i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in range(nd))
    view = windows(x, kernel, stride, dilation, out)  # (N, C, *out, *k)
    p, k = int(np.prod(out)), int(np.prod(kernel))
    cols = np.ascontiguousarray(view.transpose(0, 1, *range(2 + nd, 2 + 2 * nd), *range(2, 2 + nd))).reshape(n, groups, cg * k, p)
    return np.matmul(w.reshape(groups, cout // groups, cg * k), cols).reshape(n, cout, *out)


class FlatGrid:
    """x (N, C, *spatial), padded, as rows (C, P·N·F): the P = Πstride phases of the padded grid
    (phase φ holds positions ≡ φ mod stride), each a sub-grid of F positions per sample. Output
    o reads x[o·s + i·d] = phase (i·d mod s) at o + ⌊i·d / s⌋, so at a fixed pitch every tap is
    one shift of a contiguous slice; outputs are computed over whole sub-grid rows and the
    columns past the output dropped (a spare row keeps the last taps inside the array)."""

    def __init__(self, rows: np.ndarray, shifts: list[int], span: int, n: int, rows_of: tuple[int, ...], out: tuple[int, ...]) -> None:
        self.rows, self.shifts, self.span, self.n, self.rows_of, self.out = rows, shifts, span, n, rows_of, out
        self.sample = int(np.prod(rows_of))
        self.width = n * self.sample  #: the producers' output width: span computed, the rest past the last sample's outputs

    def unflatten(self, acc: np.ndarray) -> np.ndarray:
        """acc (C_out, width), its first span columns computed → (N, C_out, *out)."""
        c, n = acc.shape[0], self.n
        length = self.out[0] * int(np.prod(self.rows_of[1:]))
        per = acc.reshape(c, n, self.sample)[:, :, :length].reshape(c, n, self.out[0], *self.rows_of[1:])
        return np.ascontiguousarray(per[(slice(None), slice(None), slice(None), *(slice(o) for o in self.out[1:]))].swapaxes(0, 1))


def flat_grid(x: np.ndarray, pads: Pads, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]) -> FlatGrid:
    n, c, nd = x.shape[0], x.shape[1], len(kernel)
    out = tuple((x.shape[2 + a] + lo + hi - dilation[a] * (kernel[a] - 1) - 1) // stride[a] + 1 for a, (lo, hi) in enumerate(pads))
    reach = [(k - 1) * d // s for k, d, s in zip(kernel, dilation, stride)]
    sub = [o + r for o, r in zip(out, reach)]
    if any(reach[1:]):
        sub[0] += 1  # the spare row
    rows = np.zeros((c, *stride, n, *sub), dtype=x.dtype)  # (C, *stride, N, *sub): phases outermost
    source = x.swapaxes(0, 1)
    for phase in np.ndindex(*stride):  # padded position q·s + φ is x's position q·s + φ − lo
        first = [max(0, -(-(lo - ph) // st)) for (lo, _), ph, st in zip(pads, phase, stride)]
        last = [min(r, (size - 1 + lo - ph) // st + 1) for r, (lo, _), ph, st, size in zip(sub, pads, phase, stride, x.shape[2:])]
        if all(b > a for a, b in zip(first, last)):
            at = tuple(
                slice(q * st + ph - lo, (e - 1) * st + ph - lo + 1, st) for q, e, ph, st, (lo, _) in zip(first, last, phase, stride, pads)
            )
            rows[(slice(None), *phase, slice(None), *(slice(a, b) for a, b in zip(first, last)))] = source[(slice(None), slice(None), *at)]
    rows = rows.reshape(c, -1)
    size = int(np.prod(sub))
    pitch = [int(np.prod(sub[a + 1 :])) for a in range(nd)]
    shifts = []
    for tap in np.ndindex(*kernel):
        index = int(np.ravel_multi_index(tuple(i * d % s for i, d, s in zip(tap, dilation, stride)), stride))
        shifts.append(index * n * size + sum(i * d // s * p for i, d, s, p in zip(tap, dilation, stride, pitch)))
    span = (n - 1) * size + out[0] * pitch[0]
    return FlatGrid(rows, shifts, span, n, tuple(sub), out)


def matmul_taps(rows: np.ndarray, w: np.ndarray, groups: int, span: int, width: int, shifts: list[int]) -> np.ndarray:
    """rows (C, L) and w (out, C/g, *k) → (out, width), the first span columns Σ over taps of
    W_tap @ rows[:, shift:], a block of columns at a time so that the sum being built stays in cache."""
    cout, cg = w.shape[:2]
    taps = np.ascontiguousarray(w.reshape(groups, cout // groups, cg, -1).transpose(3, 0, 1, 2))  # (K, g, out/g, C/g)
    grouped = rows.reshape(groups, cg, -1)
    out = np.empty((groups, cout // groups, width), dtype=rows.dtype)
    block = max(BLOCK // cout, 256)
    for a in range(0, span, block):
        b = min(a + block, span)
        acc = np.matmul(taps[0], grouped[..., shifts[0] + a : shifts[0] + b])
        for t in range(1, len(shifts)):
            acc += np.matmul(taps[t], grouped[..., shifts[t] + a : shifts[t] + b])
        out[..., a:b] = acc
    return out.reshape(cout, width)


def depthwise_taps(rows: np.ndarray, taps: np.ndarray, span: int, width: int, shifts: list[int]) -> np.ndarray:
    """rows (C, L) correlated per channel with taps (C, K) → (C, width), the first span columns
    computed: per block of channels, a multiply-add of each tap's slice (two passes per tap:
    numpy has no fused multiply-add)."""
    out = np.empty((rows.shape[0], width), dtype=rows.dtype)

    def work(r: slice) -> None:
        acc = out[r, :span]
        scratch = np.empty_like(acc)
        for t, shift in enumerate(shifts):
            np.multiply(rows[r, shift : shift + span], taps[r, t : t + 1], out=acc if t == 0 else scratch)
            if t:
                acc += scratch

    in_blocks(rows.shape[0], span, work)
    return out


def conv_transpose(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: tuple[int, ...], pads: Pads,
                   dilation: tuple[int, ...], output_padding: tuple[int, ...], groups: int) -> np.ndarray:  # fmt: skip
    """PyTorch ConvTranspose, w (C_in, out/groups, *kernel): one matmul gives every tap's
    contribution (exactly the layer's MACs), then each tap is added into the output at its
    strided offset (col2im); padding crops the full result, output_padding extends it."""
    n, c = x.shape[:2]
    nd, kernel, in_sp = x.ndim - 2, w.shape[2:], x.shape[2:]
    cin_g, cout_g, k = c // groups, w.shape[1], int(np.prod(kernel))
    wt = w.reshape(groups, cin_g, cout_g * k).transpose(0, 2, 1)  # (g, out/g · K, C_in/g)
    cols = np.matmul(wt, np.ascontiguousarray(x).reshape(n, groups, cin_g, -1))  # (N, g, out/g · K, P_in)
    cout = groups * cout_g
    cols = cols.reshape(n * cout, k, *in_sp)
    full = [(size - 1) * s + d * (kk - 1) + 1 for size, s, d, kk in zip(in_sp, stride, dilation, kernel)]
    out_sp = [f - lo - hi + op for f, (lo, hi), op in zip(full, pads, output_padding)]
    shift = [max(0, -lo) for lo, _ in pads]
    buffer = np.zeros((n * cout, *(max(f, lo + o) + sh for f, (lo, _), o, sh in zip(full, pads, out_sp, shift))), dtype=x.dtype)
    taps = list(np.ndindex(*kernel))

    def work(r: slice) -> None:
        for t, tap in enumerate(taps):
            at = tuple(
                slice(sh + i * d, sh + i * d + (size - 1) * s + 1, s) for sh, i, d, size, s in zip(shift, tap, dilation, in_sp, stride)
            )
            buffer[(r, *at)] += cols[r, t]

    in_blocks(n * cout, k * int(np.prod(in_sp)), work)
    crop = tuple(slice(sh + lo, sh + lo + o) for sh, (lo, _), o in zip(shift, pads, out_sp))
    y = np.ascontiguousarray(buffer[(slice(None), *crop)]).reshape(n, cout, *out_sp)
    if b is not None:
        y += b.reshape(-1, *(1,) * nd)
    return y


def bilinear_gather(x: np.ndarray, py: np.ndarray, px: np.ndarray) -> np.ndarray:
    """x (N, G, C, H, W) sampled at (py, px) of shape (N, G, *pos); zero outside → (N, G, *pos, C).
    Channels last: each corner is one gather of whole C-vectors from a table with a zero border
    (every position outside the image lands on the border)."""
    n, g, c, h, w = x.shape
    pos = py.shape[2:]
    py, px = np.clip(py.reshape(n, g, -1), -2, h + 1), np.clip(px.reshape(n, g, -1), -2, w + 1)
    y0, x0 = np.floor(py), np.floor(px)
    fy, fx = py - y0, px - x0
    table = np.zeros((n, g, h + 2, w + 2, c), dtype=x.dtype)
    table[:, :, 1:-1, 1:-1] = x.transpose(0, 1, 3, 4, 2)
    base = (np.arange(n * g) * ((h + 2) * (w + 2))).reshape(n, g, 1)
    rows = [np.clip(y0.astype(np.int64) + k, 0, h + 1) * (w + 2) + base for k in (1, 2)]
    cols = [np.clip(x0.astype(np.int64) + k, 0, w + 1) for k in (1, 2)]
    flat, out = table.reshape(-1, c), np.zeros((n, g, py.shape[-1], c), dtype=x.dtype)
    for row, wy in zip(rows, (1 - fy, fy)):
        for col, wx in zip(cols, (1 - fx, fx)):
            corner = flat[row + col]
            corner *= (wy * wx)[..., None]
            out += corner
    return out.reshape(n, g, *pos, c)


def deform_conv2d(x: np.ndarray, weights: list[np.ndarray], op: object) -> np.ndarray:
    """Deformable conv v1/v2 in 2-D, the same layout as the torch backend (torchvision's):
    offsets (dy, dx) per tap and offset group, then an optional sigmoid mask; the main conv is
    one matmul over (channel, tap) of the sampled values."""
    ow, ob, mw = weights[:3]
    mb = weights[3] if len(weights) > 3 else None
    (kh, kw), stride, dil, og = op.kernel, op.stride, op.dilation, op.offset_groups  # type: ignore[attr-defined]  # op is a DeformConv
    groups = op.groups  # type: ignore[attr-defined]  # op is a DeformConv
    x = pad(x, op.padding)  # type: ignore[attr-defined]  # op is a DeformConv
    n, c, h, w = x.shape
    raw = conv(x, ow, ob, stride, ((0, 0), (0, 0)), dil, 1)
    ho, wo, taps = raw.shape[2], raw.shape[3], kh * kw
    off = raw[:, : 2 * taps * og].reshape(n, og, taps, 2, ho, wo)
    ky, kx = np.meshgrid(np.arange(kh) * dil[0], np.arange(kw) * dil[1], indexing="ij")
    oy, ox = np.meshgrid(np.arange(ho) * stride[0], np.arange(wo) * stride[1], indexing="ij")
    py = oy[None] + ky.reshape(-1, 1, 1) + off[:, :, :, 0]
    px = ox[None] + kx.reshape(-1, 1, 1) + off[:, :, :, 1]
    sampled = bilinear_gather(x.reshape(n, og, c // og, h, w), py.astype(x.dtype), px.astype(x.dtype))  # (n, og, taps, ho, wo, c/og)
    if op.modulated:  # type: ignore[attr-defined]  # op is a DeformConv
        sampled *= ACTIVATIONS["sigmoid"](raw[:, 2 * taps * og :]).reshape(n, og, taps, ho, wo, 1)
    cols = np.ascontiguousarray(sampled.transpose(0, 1, 5, 2, 3, 4)).reshape(n, groups, c // groups * taps, ho * wo)
    y = np.matmul(mw.reshape(groups, mw.shape[0] // groups, -1), cols).reshape(n, mw.shape[0], ho, wo)
    if mb is not None:
        y += mb.reshape(-1, 1, 1)
    return y


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
    Average pooling counts padding zeros, clipped to the padded input (PyTorch's default).
    A box window is reduced one axis at a time (k₁ + k₂ passes, not k₁·k₂), a block of rows at a time."""
    nd = len(kernel)
    fill = -np.inf if kind == "max" else 0.0
    padded = pad(x, pads, fill)
    extra = tuple(
        max((o - 1) * s + d * (k - 1) + 1 - padded.shape[2 + i], 0) for i, (o, s, k, d) in enumerate(zip(out, stride, kernel, dilation))
    )
    n, c = x.shape[:2]
    rows = pad(padded, tuple((0, e) for e in extra), fill).reshape(n * c, *(p + e for p, e in zip(padded.shape[2:], extra)))
    result = np.empty((n * c, *out), dtype=x.dtype)
    combine = np.maximum if kind == "max" else np.add

    def work(r: slice) -> None:
        current = rows[r]
        for axis, (o, s, k, d) in enumerate(zip(out, stride, kernel, dilation)):

            def tap(i: int) -> np.ndarray:
                return current[(slice(None), *(slice(None),) * axis, slice(i * d, i * d + (o - 1) * s + 1, s))]  # noqa: B023  # used at once

            reduced = result[r] if axis == nd - 1 else np.empty((current.shape[0], *out[: axis + 1], *current.shape[axis + 2 :]), x.dtype)
            np.copyto(reduced, tap(0))
            for i in range(1, k):
                combine(reduced, tap(i), out=reduced)
            current = reduced

    in_blocks(n * c, int(np.prod(rows.shape[1:])), work)
    if kind == "max":
        return result.reshape(n, c, *out)
    divisor = np.ones(out, dtype=x.dtype)
    for i, (o, s, k, d) in enumerate(zip(out, stride, kernel, dilation)):
        starts = np.arange(o) * s
        inside = np.minimum(starts + d * (k - 1) + 1, padded.shape[2 + i]) - starts
        counts = (inside + d - 1) // d
        divisor = divisor * counts.reshape(*(1,) * i, o, *(1,) * (nd - i - 1))
    result /= divisor
    return result.reshape(n, c, *out)


def global_pool(x: np.ndarray, maximum: bool = False) -> np.ndarray:
    """Mean (one BLAS matrix-vector product) or max over all positions, keeping 1 × … × 1."""
    n, c = x.shape[:2]
    rows = np.ascontiguousarray(x).reshape(n * c, -1)
    if not maximum:
        pooled = rows @ np.full(rows.shape[1], 1 / rows.shape[1], dtype=x.dtype)
    else:
        pooled = np.ascontiguousarray(rows.T).max(axis=0)  # a reduction across rows runs vectorised
    return pooled.reshape(n, c, *(1,) * (x.ndim - 2))


def channel_layernorm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm over the channels at every position; the sums over channels are BLAS products."""
    n, c = x.shape[:2]
    flat = np.ascontiguousarray(x).reshape(n, c, -1)
    mean = np.full(c, 1 / c, dtype=x.dtype)
    y = flat - (mean @ flat)[:, None, :]
    inv = np.matmul(mean, y * y)
    inv += eps
    np.sqrt(inv, out=inv)
    np.reciprocal(inv, out=inv)
    y *= inv[:, None, :]
    return affine(y.reshape(x.shape), weight, bias)


def upsample(x: np.ndarray, scale: tuple[int, ...], mode: str) -> np.ndarray:
    """Nearest or linear up-sampling by integer scales (align_corners=False), a block of
    (sample, channel) rows at a time, one axis after another."""
    n, c, spatial = x.shape[0], x.shape[1], x.shape[2:]
    rows = np.ascontiguousarray(x).reshape(n * c, *spatial)
    result = np.empty((n * c, *(size * s for size, s in zip(spatial, scale))), dtype=x.dtype)

    def work(r: slice) -> None:
        block = rows[r]
        for axis, s in enumerate(scale, start=1):
            if s > 1:
                block = np.repeat(block, s, axis=axis) if mode == "nearest" else _linear_up(block, axis, s)
        result[r] = block

    in_blocks(n * c, int(np.prod(result.shape[1:])), work)
    return result.reshape(n, c, *result.shape[1:])


def _linear_up(x: np.ndarray, axis: int, s: int) -> np.ndarray:
    """Output s·i + r lies at i + (r + ½)/s − ½ in the input, so each of the s phases is a blend
    of two shifted slices of the edge-padded input with one fixed weight."""
    n = x.shape[axis]
    edged = np.concatenate([x[(slice(None),) * axis + (slice(0, 1),)], x, x[(slice(None),) * axis + (slice(n - 1, n),)]], axis=axis)
    out = np.empty((*x.shape[:axis], n * s, *x.shape[axis + 1 :]), dtype=x.dtype)

    def at(start: int, step: int = 1) -> tuple[slice, ...]:
        return (slice(None),) * axis + (slice(start, start + (n - 1) * step + 1, step),)

    for r in range(s):
        pos = (r + 0.5) / s - 0.5  # in (−½, ½): between input i − 1 and i, or i and i + 1
        lo, lam = (0, 1 + pos) if pos < 0 else (1, pos)
        phase = out[at(r, s)]
        np.multiply(edged[at(lo)], x.dtype.type(1 - lam), out=phase)
        phase += edged[at(lo + 1)] * x.dtype.type(lam)
    return out


def channel_shape(x: np.ndarray) -> tuple[int, ...]:
    """Shape that broadcasts a per-channel vector over x."""
    return (1, x.shape[1], *(1,) * (x.ndim - 2))


# np.clip(x, 0, inf) runs about 4× faster than np.maximum(x, 0) on float32 (numpy 2.4: the
# scalar maximum misses its SIMD loop); a sigmoid through tanh saves a third of its time.


def _relu(x: np.ndarray, out: np.ndarray) -> None:
    np.clip(x, 0, np.inf, out=out)


def _sigmoid(x: np.ndarray, out: np.ndarray) -> None:
    np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5  # σ(x) = (1 + tanh(x/2)) / 2


def _silu(x: np.ndarray, out: np.ndarray) -> None:
    _sigmoid(x, out)
    out *= x


def _hsigmoid(x: np.ndarray, out: np.ndarray) -> None:
    np.multiply(x, 1 / 6, out=out)
    out += 0.5
    np.clip(out, 0, 1, out=out)  # relu6(x + 3) / 6


def _hswish(x: np.ndarray, out: np.ndarray) -> None:
    _hsigmoid(x, out)
    out *= x


def _leaky(x: np.ndarray, out: np.ndarray) -> None:
    np.multiply(x, 0.01, out=out)
    np.maximum(x, out, out=out)  # x ≥ 0: x; x < 0: 0.01·x is the larger


def _gelu(x: np.ndarray, out: np.ndarray) -> None:
    """0.5·x·(1 + erf(x/√2)) = relu(x) − |x|·q/2 with q = 1 − erf(|x|/√2), q by Abramowitz & Stegun
    7.1.26 (|error| < 1.5e-7, enough for float32)."""
    a = np.abs(x)
    t = a * (0.3275911 / math.sqrt(2))
    t += 1
    np.reciprocal(t, out=t)
    q = t * 1.061405429
    for c in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        q += c
        q *= t
    np.square(a, out=t)
    t *= -0.5
    np.exp(t, out=t)
    q *= t
    q *= a
    q *= 0.5
    _relu(x, out)
    out -= q


ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": elementwise(_relu),
    "relu6": elementwise(lambda x, out: np.clip(x, 0, 6, out=out)),
    "leakyrelu": elementwise(_leaky),
    "sigmoid": elementwise(_sigmoid),
    "tanh": elementwise(lambda x, out: np.tanh(x, out=out)),
    "silu": elementwise(_silu),
    "hswish": elementwise(_hswish),
    "hsigmoid": elementwise(_hsigmoid),
    "gelu": elementwise(_gelu),
    "identity": lambda x: x,
}


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def self_attention(
    x: np.ndarray, heads: int, w_qkv: np.ndarray, b_qkv: np.ndarray | None, proj: tuple[np.ndarray, np.ndarray | None] | None
) -> np.ndarray:
    """Multi-head self-attention over the positions of x (N, C, *spatial): one qkv projection,
    softmax(q·kᵀ/√d) per head (stabilised by its row maximum), the heads joined, then ``proj``."""
    n, c, spatial = x.shape[0], x.shape[1], x.shape[2:]
    tokens = x.reshape(n, c, -1).transpose(0, 2, 1)  # (N, L, C)
    qkv = tokens @ w_qkv.T + (b_qkv if b_qkv is not None else 0)
    d = qkv.shape[-1] // 3
    q, k, v = (qkv[..., i * d : (i + 1) * d].reshape(n, -1, heads, d // heads).transpose(0, 2, 1, 3) for i in range(3))
    scores = (q * np.float32(1 / math.sqrt(d // heads))) @ k.transpose(0, 1, 3, 2)
    scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
    scores /= scores.sum(axis=-1, keepdims=True)
    y = (scores @ v).transpose(0, 2, 1, 3).reshape(n, -1, d)
    if proj is not None:
        y = y @ proj[0].T + (proj[1] if proj[1] is not None else 0)
    return np.ascontiguousarray(y.transpose(0, 2, 1)).reshape(n, -1, *spatial).astype(x.dtype, copy=False)
