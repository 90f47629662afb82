"""The torch building blocks the kinds' ``torch_module`` use: activations by name, explicit
asymmetric padding (``F.pad`` before, or a crop after a transposed conv), channel-wise,
deformable and classifier convs, squeeze-and-excitation, channel norms, shuffles, chunks.

A leaf of the package: it imports torch and nothing of convcost, so kinds/ can import it
(lazily, inside ``torch_module``) without an import circle. No torchvision.
"""

from __future__ import annotations

import functools
import operator
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn as nn  # re-exported: the kinds build torch.nn modules through this module

ACT = {
    "relu": nn.ReLU, "relu6": nn.ReLU6, "leakyrelu": nn.LeakyReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
    "silu": nn.SiLU, "hswish": nn.Hardswish, "hsigmoid": nn.Hardsigmoid, "gelu": nn.GELU,
    "identity": nn.Identity,
}  # fmt: skip


class Helper(nn.Module):
    """A building block of this module: it keeps its constructor's arguments (``init_args``), so
    ``convcost export`` can write the call back as source."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__init__

        @functools.wraps(init)
        def recorded(self: nn.Module, *args: Any, **kw: Any) -> None:
            init(self, *args, **kw)
            self.__dict__["init_args"] = (args, kw)

        cls.__init__ = recorded  # type: ignore[method-assign]  # wrapping every subclass's own __init__


def nd(prefix: str, ndim: int) -> Any:
    return getattr(nn, f"{prefix}{ndim}d")


def _flat_pads(pads: tuple[tuple[int, int], ...]) -> list[int]:
    """F.pad order: last axis first."""
    return [p for lo_hi in reversed(pads) for p in lo_hi]


class Padded(Helper):
    """Explicit (possibly asymmetric) padding, then the wrapped module."""

    def __init__(self, pads: tuple[tuple[int, int], ...], inner: nn.Module, value: float = 0.0) -> None:
        super().__init__()
        self.pads, self.inner, self.value = _flat_pads(pads), inner, value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(F.pad(x, self.pads, value=self.value))


def window(pads: tuple[tuple[int, int], ...], make: Any, value: float = 0.0) -> nn.Module:
    """Use the module's own symmetric padding when possible, else pad explicitly."""
    if all(lo == hi for lo, hi in pads):
        return make(tuple(lo for lo, _ in pads))  # type: ignore[no-any-return]  # torch modules are untyped calls
    return Padded(pads, make((0,) * len(pads)), value)


class Cropped(Helper):
    """A transposed conv with asymmetric padding: pad 0, then crop (lo, hi) per axis."""

    def __init__(self, inner: nn.Module, pads: tuple[tuple[int, int], ...]) -> None:
        super().__init__()
        self.inner, self.pads = inner, pads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.inner(x)
        index = [slice(None), slice(None)] + [slice(lo, y.shape[2 + i] - hi) for i, (lo, hi) in enumerate(self.pads)]
        return y[tuple(index)]


class ChannelConv(Helper):
    """Channel-wise convs (ChannelNets) as a 2-D conv over (channels, positions)."""

    def __init__(self, outputs: int, kernel: int, stride: int, pads: tuple[int, int]) -> None:
        super().__init__()
        self.pads = [0, 0, pads[0], pads[1]]
        self.conv = nn.Conv2d(1, outputs, (kernel, 1), (stride, 1), bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, spatial = x.shape[0], x.shape[2:]
        y = self.conv(F.pad(x.reshape(n, 1, x.shape[1], -1), self.pads))  # (n, g, C', P)
        return y.reshape(n, -1, *spatial)


class ConvClassifier(Helper):
    """One conv of kernel (C − n + 1) × spatial over (channels, positions): [N, n]."""

    def __init__(self, c: int, classes: int, positions: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 1, (c - classes + 1, positions), bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x.reshape(x.shape[0], 1, x.shape[1], -1)).reshape(x.shape[0], -1)


class DeformConv2d(Helper):
    """Deformable conv v1/v2 (Dai et al. 2017; Zhu et al. 2019), 2-D, via bilinear gathers.

    An offset conv predicts (dy, dx) per kernel tap and offset group (and a sigmoid mask when
    modulated); the input is sampled at p0 + p_k + Δp_k (zero outside), and the main conv's
    weights (kept as an nn.Conv2d for their shapes) multiply the samples of every (channel, tap)
    in one matmul.
    """

    def __init__(self, c: int, out: int, kernel: tuple[int, ...], stride: tuple[int, ...], padding: tuple[tuple[int, int], ...],
                 dilation: tuple[int, ...], groups: int, offset_groups: int, modulated: bool, bias: bool) -> None:  # fmt: skip
        super().__init__()
        self.kernel, self.stride, self.padding, self.dilation = kernel, stride, padding, dilation
        self.groups, self.offset_groups, self.modulated = groups, offset_groups, modulated
        offsets = (3 if modulated else 2) * kernel[0] * kernel[1] * offset_groups
        k2, s2, d2 = (kernel[0], kernel[1]), (stride[0], stride[1]), (dilation[0], dilation[1])  # 2-D only
        self.offset = nn.Conv2d(c, offsets, k2, s2, 0, d2, bias=True)
        self.main = nn.Conv2d(c, out, k2, k2, 0, 1, groups, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        (kh, kw), (sh, sw), (dh, dw), og = self.kernel, self.stride, self.dilation, self.offset_groups
        x = F.pad(x, _flat_pads(self.padding))
        n, c, h, w = x.shape
        raw = self.offset(x)
        ho, wo, taps = raw.shape[2], raw.shape[3], kh * kw
        off = raw[:, : 2 * taps * og].reshape(n, og, taps, 2, ho, wo)
        mask = torch.sigmoid(raw[:, 2 * taps * og :].reshape(n, og, taps, 1, ho, wo)) if self.modulated else None
        ky, kx = torch.meshgrid(torch.arange(kh) * dh, torch.arange(kw) * dw, indexing="ij")
        oy, ox = torch.meshgrid(torch.arange(ho) * sh, torch.arange(wo) * sw, indexing="ij")
        base_y = (oy[None] + ky.reshape(-1, 1, 1)).to(x)  # (taps, ho, wo)
        base_x = (ox[None] + kx.reshape(-1, 1, 1)).to(x)
        py, px = base_y + off[:, :, :, 0], base_x + off[:, :, :, 1]  # (n, og, taps, ho, wo)
        sampled = _bilinear(x.reshape(n, og, c // og, h, w), py, px)  # (n, og, taps, ho, wo, c/og)
        if mask is not None:
            sampled = sampled * mask.reshape(n, og, taps, ho, wo, 1)
        groups, weight = self.groups, self.main.weight
        cols = sampled.permute(0, 1, 5, 2, 3, 4).reshape(n, groups, c // groups * taps, ho * wo)
        y = torch.matmul(weight.reshape(groups, weight.shape[0] // groups, -1), cols).reshape(n, weight.shape[0], ho, wo)
        return y if self.main.bias is None else y + self.main.bias.reshape(-1, 1, 1)


def _bilinear(x: torch.Tensor, py: torch.Tensor, px: torch.Tensor) -> torch.Tensor:
    """x (n, g, c, h, w) sampled at (py, px) (n, g, *pos), zero outside → (n, g, *pos, c): channels
    last, each corner one gather of whole c-vectors from a table with a zero border."""
    n, g, c, h, w = x.shape
    pos = py.shape[2:]
    py, px = py.reshape(n, g, -1).clamp(-2, h + 1), px.reshape(n, g, -1).clamp(-2, w + 1)
    y0, x0 = torch.floor(py), torch.floor(px)
    fy, fx = py - y0, px - x0
    table = F.pad(x, (1, 1, 1, 1)).permute(0, 1, 3, 4, 2).reshape(-1, c)
    base = (torch.arange(n * g, device=x.device) * ((h + 2) * (w + 2))).reshape(n, g, 1)
    rows = [(y0.long() + k).clamp(0, h + 1) * (w + 2) + base for k in (1, 2)]
    cols = [(x0.long() + k).clamp(0, w + 1) for k in (1, 2)]
    out = torch.zeros(n, g, py.shape[-1], c, dtype=x.dtype, device=x.device)
    for row, wy in zip(rows, (1 - fy, fy)):
        for col, wx in zip(cols, (1 - fx, fx)):
            out = out + table[row + col] * (wy * wx).unsqueeze(-1)
    return out.reshape(n, g, *pos, c)


class SqueezeExcite(Helper):
    """gap → fc1 → act → fc2 → gate → channel scale, over ``ndim`` spatial axes (traceable by torch.fx)."""

    def __init__(self, c: int, hidden: int, act: nn.Module, gate: nn.Module, ndim: int = 2) -> None:
        super().__init__()
        self.fc1, self.fc2, self.act, self.gate = nn.Linear(c, hidden), nn.Linear(hidden, c), act, gate
        self.dims, self.ones = tuple(range(2, 2 + ndim)), (1,) * ndim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x.mean(dim=self.dims) if self.dims else x
        s = self.gate(self.fc2(self.act(self.fc1(s))))
        return x * s.reshape(s.shape[0], s.shape[1], *self.ones)


class SelfAttention(Helper):
    """Multi-head self-attention over the positions of (N, C, *spatial), written as its matrix
    products (FlopCounterMode counts them; it does not count CPU scaled_dot_product_attention)."""

    def __init__(self, c: int, heads: int, head_dim: int, qkv_bias: bool, proj: bool, proj_bias: bool) -> None:
        super().__init__()
        self.heads, self.head_dim = heads, head_dim
        self.qkv = nn.Linear(c, 3 * heads * head_dim, bias=qkv_bias)
        self.proj = nn.Linear(heads * head_dim, c, bias=proj_bias) if proj else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, spatial = x.shape[0], x.shape[2:]
        tokens = x.flatten(2).transpose(1, 2)
        q, k, v = self.qkv(tokens).unflatten(-1, (3, self.heads, self.head_dim)).permute(2, 0, 3, 1, 4)
        weights = ((q * self.head_dim**-0.5) @ k.transpose(-2, -1)).softmax(-1)
        y = self.proj((weights @ v).transpose(1, 2).flatten(2))
        return y.transpose(1, 2).reshape(n, -1, *spatial)


class ChannelLayerNorm(Helper):
    """LayerNorm over the channels at every position (ConvNeXt's LayerNorm2d, eps 1e-6)."""

    def __init__(self, c: int, ndim: int = 2) -> None:
        super().__init__()
        self.c, self.weight, self.bias = c, nn.Parameter(torch.ones(c)), nn.Parameter(torch.zeros(c))
        self.to_last, self.to_first = (0, *range(2, 2 + ndim), 1), (0, 1 + ndim, *range(1, 1 + ndim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.layer_norm(x.permute(*self.to_last), (self.c,), self.weight, self.bias, 1e-6)
        return y.permute(*self.to_first)


class ChannelScale(Helper):
    def __init__(self, c: int, ndim: int = 2) -> None:
        super().__init__()
        self.gamma, self.ones = nn.Parameter(torch.ones(c)), (1,) * ndim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma.reshape(-1, *self.ones)


class Shuffle(Helper):
    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.unflatten(1, (self.groups, -1)).transpose(1, 2).flatten(1, 2)


class Chunk(Helper):
    """torch.chunk(x, chunks, dim=1)[index]."""

    def __init__(self, chunks: int, index: int) -> None:
        super().__init__()
        self.chunks, self.index = chunks, index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.chunk(self.chunks, 1)[self.index]


class Scale(Helper):
    """x · by, by a constant or (learned) one parameter."""

    def __init__(self, by: float, learned: bool = False) -> None:
        super().__init__()
        self.learned = learned
        if learned:
            self.weight = nn.Parameter(torch.full((1,), by))
        else:
            self.by = by

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * (self.weight if self.learned else self.by)


class Slice(Helper):
    """x[:, start:end]."""

    def __init__(self, start: int, end: int) -> None:
        super().__init__()
        self.start, self.end = start, end

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.start : self.end]


ELEMENTWISE = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


class Elementwise(Helper):
    """The sum, difference, product or quotient of its inputs, broadcasting as torch does."""

    def __init__(self, symbol: str) -> None:
        super().__init__()
        self.symbol = symbol

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return functools.reduce(ELEMENTWISE[self.symbol], xs)


class Cat(Helper):
    """torch.cat(xs, dim)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, self.dim)


class FastFusion(Helper):
    """EfficientDet's fast normalized fusion: Σ wᵢ·xᵢ, w = relu(p) / (Σ relu(p) + 10⁻⁴)."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(count))

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        w = self.weight.relu()
        w = w / (w.sum() + 1e-4)
        y = w[0] * xs[0]
        for i in range(1, len(xs)):
            y = y + w[i] * xs[i]
        return y
