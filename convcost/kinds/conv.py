"""The convolution family: conv, dwconv, pwconv, sepconv, convtranspose, deformconv."""

from __future__ import annotations

from typing import Any, ClassVar

from ..arith import conv_out, eff_kernel, prod, same_pads, transposed_out, transposed_same_pads
from ..model.rf import Down, Step, Up
from .args import SAME, boolean, nonneg_axes, padding, pos_axes, pos_int
from .base import INPUT, Kind, Saved, Shape, arg, fit_error, internal, need_divisible


class Window(Kind):
    """A sliding window over the spatial axes: kernel, stride, padding, dilation."""

    kernel: tuple[int, ...] = arg(pos_axes)
    stride: tuple[int, ...] = arg(pos_axes, 1)
    padding: Any = arg(padding, 0)  #: 'same' or pairs until bound, pairs (before, after) per axis after
    dilation: tuple[int, ...] = arg(pos_axes, 1)

    def bind(self, shape: Shape) -> Any:
        self.need_spatial(shape)
        if self.padding == SAME:
            pads = tuple(same_pads(n, k, s, d) for n, k, s, d in zip(shape[1:], self.kernel, self.stride, self.dilation))
            return self.replace(padding=pads)
        return self

    def spatial_out(self, shape: Shape) -> tuple[int, ...]:
        sizes = []
        for axis, (n, k, s, p, d) in enumerate(zip(shape[1:], self.kernel, self.stride, self.padding, self.dilation)):
            size = conv_out(n, k, s, p, d)
            if size < 1:
                raise fit_error(f"kernel {eff_kernel(k, d)} (dilated) is larger than the padded input "
                                f"{n + p[0] + p[1]} on spatial axis {axis}", "kernel")  # fmt: skip
            sizes.append(size)
        return tuple(sizes)

    def rf_steps(self) -> tuple[Step, ...] | None:
        return tuple(Down(k, s, d, p[0]) for k, s, p, d in zip(self.kernel, self.stride, self.padding, self.dilation))


def padded_input(shape: Shape, padding: Any, native: bool | None = None) -> Saved:
    """What a windowed op saves: its input, or, when its padding is asymmetric (padded first, as
    PyTorch has to), the padded copy."""
    if native if native is not None else all(lo == hi for lo, hi in padding):
        return INPUT
    return Saved("inner", shape[0] * prod(tuple(n + lo + hi for n, (lo, hi) in zip(shape[1:], padding))))


class ConvLike(Window):
    """Shared cost formulas: output channels ``cout``, ``groups``; params = out·C/g·K (+ bias)."""

    SHORTHAND: ClassVar[bool] = True
    out: int  #: declared as a field by each conv kind that takes it (dwconv and sepconv derive theirs)
    groups: int

    def cout(self, c: int) -> int:
        return self.out

    def ngroups(self, c: int) -> int:
        return self.groups

    def saved(self, shape: Shape, out: Shape, trained: bool) -> list[Saved] | None:
        return [padded_input(shape, self.padding)]

    def overwrites_input(self, shape: Shape) -> bool:
        """A depthwise conv, one output channel per input channel (TinyEngine's in-place
        depthwise): each channel's output is written over that channel once it is read; not one
        that grows the tensor (a transposed conv's upsampling)."""
        return self.ngroups(shape[0]) == shape[0] == self.cout(shape[0]) and prod(self.out_shape(shape)) <= prod(shape)

    def device_class(self, shape: Shape, out: Shape) -> tuple[str, int]:
        """depthwise (one channel per group), grouped or grouped1x1 (with its channels per group),
        pointwise (1×1) or conv."""
        if self.macs(shape, out) == 0:
            return "memory", 0
        cin, groups = shape[0], self.ngroups(shape[0])
        if groups == cin and cin > 1:
            return "depthwise", 1
        one = all(k == 1 for k in self.kernel)
        if groups > 1:
            return ("grouped1x1" if one else "grouped"), cin // groups
        return ("pointwise" if one else "conv"), cin

    def bind(self, shape: Shape) -> Any:
        bound = super().bind(shape)
        need_divisible(shape[0], self.ngroups(shape[0]), "C_in", "groups")
        need_divisible(self.cout(shape[0]), self.ngroups(shape[0]), "out", "groups")
        bound.spatial_out(shape)
        return bound

    def out_shape(self, shape: Shape) -> Shape:
        return (self.cout(shape[0]), *self.spatial_out(shape))

    def params(self, shape: Shape) -> int:
        c, out = shape[0], self.cout(shape[0])
        return out * (c // self.ngroups(c)) * prod(self.kernel) + (out if self.bias else 0)  # type: ignore[attr-defined]  # bias is declared by each conv kind

    def macs(self, shape: Shape, out: Shape) -> int:
        return prod(out) * (shape[0] // self.ngroups(shape[0])) * prod(self.kernel)

    def param_shapes(self, shape: Shape) -> list[tuple[int, ...]]:
        c, out = shape[0], self.cout(shape[0])
        return [(out, c // self.ngroups(c), *self.kernel)] + ([(out,)] if self.bias else [])  # type: ignore[attr-defined]  # bias: on each conv kind

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        from ..ops import numpy_ops as ops

        groups, bias = self.ngroups(shape[0]), (w[1] if self.bias else None)  # type: ignore[attr-defined]  # as above
        return lambda x: ops.conv(x, w[0], bias, self.stride, self.padding, self.dilation, groups)

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        c, conv = shape[0], tb.nd("Conv", len(shape) - 1)
        out, groups = self.cout(c), self.ngroups(c)
        return tb.window(self.padding, lambda p: conv(c, out, self.kernel, self.stride, p, self.dilation, groups, self.bias))  # type: ignore[attr-defined]  # as above

    def run_taps(self) -> tuple[tuple[int, int], ...] | None:
        if any(s != 1 for s in self.stride):
            return None
        if all(k == 1 for k in self.kernel):
            return ()  # a 1×1 conv adds nothing to a footprint: it neither joins nor breaks a run
        return tuple(zip(self.kernel, self.dilation))


class Conv(ConvLike):
    """Standard, grouped or dilated convolution (PyTorch Conv1d/2d/3d; groups = C_in is depthwise)."""

    kind: ClassVar[str] = "conv"
    COST = (
        "params = out · C_in/groups · K (+ out with bias); MACs = output elements · C_in/groups · K (K = kernel "
        "elements); output size per axis = floor((n + before + after − d·(k − 1) − 1) / s) + 1"
    )
    EXAMPLE = "conv: {out: 64, kernel: 3, stride: 2, padding: 1, bn: true, act: relu}"
    out: int = arg(pos_int)
    groups: int = arg(pos_int, 1)
    bias: bool = arg(boolean, True)


class DWConv(ConvLike):
    """Depthwise convolution: groups = C_in, out = C_in × multiplier."""

    kind: ClassVar[str] = "dwconv"
    COST = "params = C·M · K (+ C·M); MACs = output elements · K; output size as conv, C·M channels"
    EXAMPLE = "dwconv: {kernel: 3, padding: 1, bias: false}"
    multiplier: int = arg(pos_int, 1)
    bias: bool = arg(boolean, True)

    def cout(self, c: int) -> int:
        return c * self.multiplier

    def ngroups(self, c: int) -> int:
        return c

    def device_class(self, shape: Shape, out: Shape) -> tuple[str, int]:
        return ("memory", 0) if self.macs(shape, out) == 0 else ("depthwise", 1)


class PWConv(ConvLike):
    """1×1 convolution: kernel, stride and dilation 1, no padding."""

    kind: ClassVar[str] = "pwconv"
    COST = "params = out · C_in/groups (+ out); MACs = output elements · C_in/groups; spatial size kept"
    EXAMPLE = "pwconv: {out: 128, bias: false, bn: true}"
    kernel: tuple[int, ...] = internal()
    stride: tuple[int, ...] = internal()
    padding: Any = internal()
    dilation: tuple[int, ...] = internal()
    out: int = arg(pos_int)
    groups: int = arg(pos_int, 1)
    bias: bool = arg(boolean, True)

    def __post_init__(self) -> None:
        for name, value in (("kernel", 1), ("stride", 1), ("dilation", 1)):
            object.__setattr__(self, name, (value,) * self.ndim)
        object.__setattr__(self, "padding", ((0, 0),) * self.ndim)


class SepConv(ConvLike):
    """Keras SeparableConv: depthwise (C·multiplier channels, no bias) then pointwise to ``out``."""

    kind: ClassVar[str] = "sepconv"
    COST = "params = C·M·K + C·M·out (+ out); MACs = positions · (C·M·K + C·M·out); one leaf, like Keras SeparableConv"
    EXAMPLE = "sepconv: {out: 64, kernel: 3, padding: same}"
    out: int = arg(pos_int)
    multiplier: int = arg(pos_int, 1)
    bias: bool = arg(boolean, True)

    def ngroups(self, c: int) -> int:
        return 1

    def params(self, shape: Shape) -> int:
        mid = shape[0] * self.multiplier
        return mid * prod(self.kernel) + self.out * mid + (self.out if self.bias else 0)

    def macs(self, shape: Shape, out: Shape) -> int:
        mid, positions = shape[0] * self.multiplier, prod(out[1:])
        return positions * mid * prod(self.kernel) + positions * mid * self.out

    def products(self, shape: Shape, out: Shape) -> list[tuple[int, str]]:
        mid, positions = shape[0] * self.multiplier, prod(out[1:])
        return [(positions * mid * prod(self.kernel), "input"), (positions * mid * self.out, "inner")]

    def param_shapes(self, shape: Shape) -> list[tuple[int, ...]]:
        mid = shape[0] * self.multiplier
        return [(mid, 1, *self.kernel), (self.out, mid, *(1,) * self.ndim)] + ([(self.out,)] if self.bias else [])

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        from ..ops import numpy_ops as ops

        c, nd, bias = shape[0], self.ndim, (w[2] if self.bias else None)
        return lambda x: ops.conv(ops.conv(x, w[0], None, self.stride, self.padding, self.dilation, c), w[1], bias, (1,) * nd,
                                  ((0, 0),) * nd, (1,) * nd, 1)  # fmt: skip

    def saved(self, shape: Shape, out: Shape, trained: bool) -> list[Saved] | None:
        return [padded_input(shape, self.padding), Saved("inner", shape[0] * self.multiplier * prod(out[1:]))]  # and the depthwise's output

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        c, conv = shape[0], tb.nd("Conv", len(shape) - 1)
        mid = c * self.multiplier
        dw = tb.window(self.padding, lambda p: conv(c, mid, self.kernel, self.stride, p, self.dilation, c, False))
        return tb.nn.Sequential(dw, conv(mid, self.out, 1, bias=self.bias))


class ConvTranspose(ConvLike):
    """PyTorch ConvTranspose: out = (n − 1)·s − (lo + hi) + d(k − 1) + output_padding + 1.
    MACs are input-based: input elements × out/groups × kernel elements."""

    kind: ClassVar[str] = "convtranspose"
    COST = (
        "params = C_in · out/groups · K (+ out); MACs = input elements · out/groups · K (input-based); output size "
        "per axis = (n − 1)·s − before − after + d·(k − 1) + output_padding + 1"
    )
    EXAMPLE = "convtranspose: {out: 32, kernel: 4, stride: 2, padding: 1}"
    out: int = arg(pos_int)
    output_padding: tuple[int, ...] = arg(nonneg_axes, 0)
    groups: int = arg(pos_int, 1)
    bias: bool = arg(boolean, True)

    def bind(self, shape: Shape) -> Any:
        self.need_spatial(shape)
        bound = self
        if self.padding == SAME:
            pads = tuple(
                transposed_same_pads(k, s, d, op) for k, s, d, op in zip(self.kernel, self.stride, self.dilation, self.output_padding)
            )
            if any(lo < 0 for lo, _ in pads):
                raise fit_error("padding 'same' needs kernel ≥ stride on every axis", "padding")
            bound = self.replace(padding=pads)
        for op, s, d in zip(self.output_padding, self.stride, self.dilation):
            if op >= max(s, d):
                raise fit_error(f"output_padding {op} must be smaller than stride {s} or dilation {d}", "output_padding")
        need_divisible(shape[0], self.groups, "C_in", "groups")
        need_divisible(self.out, self.groups, "out", "groups")
        bound.spatial_out(shape)
        return bound

    def spatial_out(self, shape: Shape) -> tuple[int, ...]:
        sizes = tuple(transposed_out(n, k, s, p, d, op) for n, k, s, p, d, op in
                      zip(shape[1:], self.kernel, self.stride, self.padding, self.dilation, self.output_padding))  # fmt: skip
        if min(sizes) < 1:
            raise fit_error(f"padding {list(self.padding)} leaves no output from input {list(shape[1:])}", "padding")
        return sizes

    def params(self, shape: Shape) -> int:
        return shape[0] * (self.out // self.groups) * prod(self.kernel) + (self.out if self.bias else 0)

    def macs(self, shape: Shape, out: Shape) -> int:
        return prod(shape) * (self.out // self.groups) * prod(self.kernel)

    def param_shapes(self, shape: Shape) -> list[tuple[int, ...]]:
        return [(shape[0], self.out // self.groups, *self.kernel)] + ([(self.out,)] if self.bias else [])

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        from ..ops import numpy_ops as ops

        bias = w[1] if self.bias else None
        return lambda x: ops.conv_transpose(x, w[0], bias, self.stride, self.padding, self.dilation, self.output_padding, self.groups)

    def saved(self, shape: Shape, out: Shape, trained: bool) -> list[Saved] | None:
        return [INPUT]  # asymmetric padding crops its output (a view): the input is what it keeps

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        conv, pads = tb.nd("ConvTranspose", len(shape) - 1), self.padding
        symmetric = all(lo == hi for lo, hi in pads)
        module = conv(shape[0], self.out, self.kernel, self.stride, tuple(lo for lo, _ in pads) if symmetric else 0, self.output_padding,
                      self.groups, self.bias, self.dilation)  # fmt: skip
        return module if symmetric else tb.Cropped(module, pads)

    def rf_steps(self) -> tuple[Step, ...] | None:
        return tuple(
            Down(k, 1, d, d * (k - 1) - p[0]) if s == 1 else Up("transposed", s, k, d, p[0])
            for k, s, p, d in zip(self.kernel, self.stride, self.padding, self.dilation)
        )

    def run_taps(self) -> tuple[tuple[int, int], ...] | None:
        return None

    def device_class(self, shape: Shape, out: Shape) -> tuple[str, int]:
        return ("memory", 0) if self.macs(shape, out) == 0 else ("transposed", 0)


class DeformConv(ConvLike):
    """Deformable conv v1 (v2 when modulated): an offset conv C_in → (2 or 3)·K·offset_groups
    (same window, with bias), bilinear sampling (0 MACs), then the main conv."""

    kind: ClassVar[str] = "deformconv"
    COST = (
        "params = main conv + offset conv (C_in → 2·K·offset_groups, 3·K·… when modulated, with bias); MACs = both "
        "convs' MACs (bilinear sampling is 0 MACs); output size as conv"
    )
    EXAMPLE = "deformconv: {out: 64, kernel: 3, padding: 1}"
    out: int = arg(pos_int)
    groups: int = arg(pos_int, 1)
    offset_groups: int = arg(pos_int, 1)
    modulated: bool = arg(boolean, False)
    bias: bool = arg(boolean, True)

    def offset_channels(self) -> int:
        return (3 if self.modulated else 2) * prod(self.kernel) * self.offset_groups

    def saved(self, shape: Shape, out: Shape, trained: bool) -> list[Saved] | None:
        return None  # its bilinear sampling keeps index and weight tensors that depend on the implementation

    def overwrites_input(self, shape: Shape) -> bool:
        return False  # its samples land anywhere in the input: nothing of it is done before the end

    def bind(self, shape: Shape) -> Any:
        bound = super().bind(shape)
        need_divisible(shape[0], self.offset_groups, "C_in", "offset_groups")
        return bound

    def params(self, shape: Shape) -> int:
        oc = self.offset_channels()
        return shape[0] * oc * prod(self.kernel) + oc + super().params(shape)

    def macs(self, shape: Shape, out: Shape) -> int:
        return prod(out[1:]) * self.offset_channels() * shape[0] * prod(self.kernel) + super().macs(shape, out)

    def products(self, shape: Shape, out: Shape) -> list[tuple[int, str]]:
        offsets = prod(out[1:]) * self.offset_channels() * shape[0] * prod(self.kernel)
        return [(offsets, "input"), (super().macs(shape, out), "inner")]  # the main conv reads samples placed by the offsets

    def param_shapes(self, shape: Shape) -> list[tuple[int, ...]]:
        c, oc = shape[0], self.offset_channels()
        return [(oc, c, *self.kernel), (oc,), (self.out, c // self.groups, *self.kernel)] + ([(self.out,)] if self.bias else [])

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        from ..ops import numpy_ops as ops

        if self.ndim != 2:
            raise NotImplementedError("deformconv executes in 2-D only")
        return lambda x: ops.deform_conv2d(x, w, self)

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        if self.ndim != 2:
            raise NotImplementedError("deformconv executes in 2-D only")
        return tb.DeformConv2d(shape[0], self.out, self.kernel, self.stride, self.padding, self.dilation, self.ngroups(shape[0]),
                               self.offset_groups, self.modulated, self.bias)  # fmt: skip

    def run_taps(self) -> tuple[tuple[int, int], ...] | None:
        return None  # learned offsets: the sampling grid is not fixed
