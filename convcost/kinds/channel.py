"""ChannelNets (Gao et al., NeurIPS 2018): channel-wise convs and the conv classification layer."""

from __future__ import annotations

from typing import Any, ClassVar

from ..arith import conv_out, prod, same_pads
from .args import SAME, padding, pos_int
from .base import INPUT, Kind, Saved, Shape, arg, fit_error, need_divisible


def _channel_padding(value: Any, ndim: int) -> Any:
    return padding(value, 1)


class ChConv(Kind):
    """One 1-D kernel of d_c weights sliding over the channel axis, shared by every position.
    Out channels = conv_out(C, d_c, stride, padding); MACs = output elements × d_c; no bias."""

    kind: ClassVar[str] = "chconv"
    COST = "params = d_c (no bias); MACs = output elements · d_c; output channels = conv_out(C, d_c, stride, padding), spatial kept"
    EXAMPLE = "chconv: {kernel: 64}"
    ARG_DOCS = {"kernel": "d_c: weights of the 1-D kernel along the channel axis", "stride": "step along the channel axis",
                "padding": "zeros added along the channel axis: an int, [before, after], same or valid"}  # fmt: skip
    kernel: int = arg(pos_int)
    stride: int = arg(pos_int, 1)
    padding: Any = arg(_channel_padding, "same")

    def bind(self, shape: Shape) -> Any:
        bound = self
        if self.padding == SAME:
            bound = self.replace(padding=(same_pads(shape[0], self.kernel, self.stride),))
        bound.out_shape(shape)
        return bound

    def out_shape(self, shape: Shape) -> Shape:
        channels = conv_out(shape[0], self.kernel, self.stride, self.padding[0])
        if channels < 1:
            raise fit_error(f"kernel {self.kernel} is larger than the padded channel axis {shape[0] + sum(self.padding[0])}", "kernel")
        return (channels, *shape[1:])

    def params(self, shape: Shape) -> int:
        return self.kernel

    def macs(self, shape: Shape, out: Shape) -> int:
        return prod(out) * self.kernel

    def param_shapes(self, shape: Shape) -> list[tuple[int, ...]]:
        return [(1, 1, self.kernel, 1)]

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        from ..ops import numpy_ops as ops

        return lambda x: ops.channel_conv(x, w[0], self.stride, self.padding[0])

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        return tb.ChannelConv(1, self.kernel, self.stride, self.padding[0])

    def saved(self, shape: Shape, out: Shape, trained: bool) -> list[Saved] | None:
        lo, hi = self.padding[0]
        return [Saved("inner", (shape[0] + lo + hi) * prod(shape[1:]))]  # the input padded along the channels


class GChConv(Kind):
    """g channel-wise convs (stride g, 'same' along channels) each giving C/g channels,
    concatenated: C out, g·d_c weights, C·HW·d_c MACs; d_c defaults to 4·g (released code)."""

    kind: ClassVar[str] = "gchconv"
    COST = "params = g · d_c; MACs = C · spatial · d_c; shape kept; C divisible by g"
    EXAMPLE = "gchconv: {groups: 2}"
    ARG_DOCS = {"groups": "g: channel-wise convs, each of stride g along the channels",
                "kernel": "d_c: weights of each channel-wise kernel (default 4·g; d_c < g leaves channels unread)"}  # fmt: skip
    groups: int = arg(pos_int)
    kernel: int = arg(pos_int, None)  #: None in YAML: 4·groups (set by __post_init__)

    def __post_init__(self) -> None:
        if self.kernel is None and self.groups is not None:
            object.__setattr__(self, "kernel", 4 * self.groups)

    def bind(self, shape: Shape) -> Any:
        need_divisible(shape[0], self.groups, "C", "groups")
        if self.kernel < self.groups:
            raise fit_error(f"kernel {self.kernel} < groups {self.groups} leaves input channels unread", "kernel")
        return self

    def params(self, shape: Shape) -> int:
        return self.groups * self.kernel

    def macs(self, shape: Shape, out: Shape) -> int:
        return prod(out) * self.kernel

    def param_shapes(self, shape: Shape) -> list[tuple[int, ...]]:
        return [(self.groups, 1, self.kernel, 1)]

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        from ..ops import numpy_ops as ops

        pads = same_pads(shape[0], self.kernel, self.groups)
        return lambda x: ops.channel_conv(x, w[0], self.groups, pads)

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        return tb.ChannelConv(self.groups, self.kernel, self.groups, same_pads(shape[0], self.kernel, self.groups))

    def saved(self, shape: Shape, out: Shape, trained: bool) -> list[Saved] | None:
        lo, hi = same_pads(shape[0], self.kernel, self.groups)
        return [Saved("inner", (shape[0] + lo + hi) * prod(shape[1:]))]  # the input padded along the channels


class ConvCls(Kind):
    """Convolutional classification layer: one 3-D conv, kernel (C − n + 1) × spatial, valid,
    no bias, over (channels, *spatial) → [n]."""

    kind: ClassVar[str] = "convcls"
    CLASSIFIER: ClassVar[bool] = True
    COST = "params = (C − n + 1) · spatial; MACs = n · params; output [n]; no bias"
    EXAMPLE = "convcls: {classes: 10}"
    GLOBAL: ClassVar[bool] = True
    classes: int = arg(pos_int)

    def bind(self, shape: Shape) -> Any:
        if self.classes > shape[0]:
            raise fit_error(f"classes={self.classes} is more than the {shape[0]} input channels", "classes")
        return self

    def out_shape(self, shape: Shape) -> Shape:
        return (self.classes,)

    def params(self, shape: Shape) -> int:
        return (shape[0] - self.classes + 1) * prod(shape[1:])

    def macs(self, shape: Shape, out: Shape) -> int:
        return self.classes * self.params(shape)

    def param_shapes(self, shape: Shape) -> list[tuple[int, ...]]:
        return [(1, 1, shape[0] - self.classes + 1, prod(shape[1:]))]

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        from ..ops import numpy_ops as ops

        c = shape[0]
        return lambda x: ops.conv(x.reshape(x.shape[0], 1, c, -1), w[0], None, (1, 1), ((0, 0), (0, 0)), (1, 1), 1).reshape(x.shape[0], -1)

    def saved(self, shape: Shape, out: Shape, trained: bool) -> list[Saved] | None:
        return [INPUT]

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        return tb.ConvClassifier(shape[0], self.classes, prod(shape[1:]))
