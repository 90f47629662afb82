"""Pooling (max, avg, global) and up-sampling."""

from __future__ import annotations

from typing import Any, ClassVar

from ..arith import pool_out, prod
from ..model.rf import IDENTITY, Down, Step, Up
from .args import boolean, choice, pos_axes
from .base import INPUT, Costless, Saved, Shape, arg, fit_error, internal
from .conv import Window, padded_input


class Pool(Window, Costless):
    """PyTorch MaxPool/AvgPool: stride defaults to the kernel; ceil_mode as PyTorch."""

    stride: tuple[int, ...] = arg(pos_axes, None)  #: None in YAML: the kernel (set by __post_init__)
    ceil_mode: bool = arg(boolean, False)

    def __post_init__(self) -> None:
        if self.stride is None:
            object.__setattr__(self, "stride", self.kernel)

    def spatial_out(self, shape: Shape) -> tuple[int, ...]:
        sizes = []
        for axis, (n, k, s, p, d) in enumerate(zip(shape[1:], self.kernel, self.stride, self.padding, self.dilation)):
            size = pool_out(n, k, s, p, d, self.ceil_mode)
            if size < 1:
                raise fit_error(f"kernel {k} is larger than the padded input {n + sum(p)} on spatial axis {axis}", "kernel")
            sizes.append(size)
        return tuple(sizes)

    def bind(self, shape: Shape) -> Any:
        bound = super().bind(shape)
        bound.spatial_out(shape)
        return bound

    def out_shape(self, shape: Shape) -> Shape:
        return (shape[0], *self.spatial_out(shape))

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        from ..ops import numpy_ops as ops

        out = self.out_shape(shape)[1:]
        return lambda x: ops.pool(x, self.kind[:3], self.kernel, self.stride, self.padding, self.dilation, out)

    def native(self) -> bool:
        """PyTorch's pooling pads symmetrically by at most half the window; other padding is explicit."""
        return all(lo == hi and 2 * lo <= k for (lo, hi), k in zip(self.padding, self.kernel))

    def saved(self, shape: Shape, out: Shape, trained: bool) -> list[Saved] | None:
        indices = [Saved("inner", prod(out), 8)] if self.kind == "maxpool" else []  # int64 argmax per output
        return [padded_input(shape, self.padding, self.native()), *indices]

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        nd, maximum = len(shape) - 1, self.kind == "maxpool"
        pool = tb.nd("MaxPool" if maximum else "AvgPool", nd)
        native = self.native()
        extra = {"dilation": self.dilation} if maximum else {}

        def make(p: Any) -> Any:
            return pool(self.kernel, self.stride, p, ceil_mode=self.ceil_mode, **extra)

        return (
            make(tuple(lo for lo, _ in self.padding))
            if native
            else tb.Padded(self.padding, make((0,) * nd), float("-inf") if maximum else 0.0)
        )


class MaxPool(Pool):
    """Max pooling over a window (PyTorch MaxPool, ceil_mode and dilation included)."""

    kind: ClassVar[str] = "maxpool"
    COST = "0 params, 0 MACs; output size as conv with the window (ceil_mode rounds up); stride defaults to kernel"
    EXAMPLE = "maxpool: {kernel: 3, stride: 2, padding: 1}"


class AvgPool(Pool):
    """Average pooling over a window (padding counted in the average, as PyTorch's default)."""

    kind: ClassVar[str] = "avgpool"
    COST = "0 params, 0 MACs; output size as conv with the window; stride defaults to kernel"
    EXAMPLE = "avgpool: {kernel: 2}"
    dilation: tuple[int, ...] = internal()

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "dilation", (1,) * self.ndim)


class GlobalPool(Costless):
    GLOBAL: ClassVar[bool] = True
    #: max (gmp) rather than mean (gap)
    MAXIMUM: ClassVar[bool] = False

    def bind(self, shape: Shape) -> Any:
        if len(shape) < 2:
            raise fit_error(f"{self.kind} expects an input with spatial dims, found {list(shape)}")
        return self

    def out_shape(self, shape: Shape) -> Shape:
        return (shape[0],) + (1,) * (len(shape) - 1)

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        from ..ops import numpy_ops as ops

        return lambda x: ops.global_pool(x, self.MAXIMUM)

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        return tb.nd("AdaptiveMaxPool" if self.MAXIMUM else "AdaptiveAvgPool", len(shape) - 1)(1)

    def saved(self, shape: Shape, out: Shape, trained: bool) -> list[Saved] | None:
        return [INPUT, Saved("inner", shape[0], 8)] if self.MAXIMUM else []  # a maximum: the input and its argmax; a mean: nothing


class GAP(GlobalPool):
    """Global average pooling to 1 × … × 1."""

    kind: ClassVar[str] = "gap"
    COST = "0 params, 0 MACs; output C × 1 × … × 1; the receptive field is the whole input (rf null)"
    EXAMPLE = "gap"


class GMP(GlobalPool):
    """Global max pooling to 1 × … × 1."""

    kind: ClassVar[str] = "gmp"
    MAXIMUM = True
    COST = "0 params, 0 MACs; output C × 1 × … × 1; the receptive field is the whole input (rf null)"
    EXAMPLE = "gmp"


class AdaptivePool(Costless):
    """PyTorch AdaptiveAvgPool/AdaptiveMaxPool to a fixed size: output i of an axis of n
    inputs pools [floor(i·n/size), ceil((i + 1)·n/size))."""

    size: tuple[int, ...] = arg(pos_axes)
    inputs: tuple[int, ...] = internal()  #: the spatial input sizes, known once bound

    def bind(self, shape: Shape) -> Any:
        self.need_spatial(shape)
        return self.replace(inputs=tuple(shape[1:]))

    def out_shape(self, shape: Shape) -> Shape:
        return (shape[0], *self.size)

    def windows(self, n: int, size: int) -> list[tuple[int, int]]:
        return [(i * n // size, -(-(i + 1) * n // size)) for i in range(size)]

    def rf_steps(self) -> tuple[Step, ...] | None:
        """Exact when each input size is a multiple of the output size (a plain pool of n/size);
        otherwise the largest window at the average stride, rounded down (an approximation)."""
        steps: list[Step] = []
        for n, size in zip(self.inputs, self.size):
            widest = max(hi - lo for lo, hi in self.windows(n, size))
            steps.append(Down(widest, max(1, n // size), 1, 0))
        return tuple(steps)

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        import numpy as np

        reduce = np.mean if self.kind == "adaptiveavgpool" else np.max
        windows = [self.windows(n, s) for n, s in zip(shape[1:], self.size)]

        def pool(x: Any) -> Any:
            out = np.empty((*x.shape[:2], *self.size), dtype=x.dtype)
            for index in np.ndindex(*self.size):
                cut = tuple(slice(*windows[a][i]) for a, i in enumerate(index))
                out[(slice(None), slice(None), *index)] = reduce(x[(slice(None), slice(None), *cut)], axis=tuple(range(2, x.ndim)))
            return out

        return pool

    def saved(self, shape: Shape, out: Shape, trained: bool) -> list[Saved] | None:
        if self.kind == "adaptivemaxpool":
            return [INPUT, Saved("inner", prod(out), 8)]
        return [] if prod(out[1:]) == 1 else [INPUT]  # to one position PyTorch takes a mean, which keeps nothing

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        prefix = "AdaptiveAvgPool" if self.kind == "adaptiveavgpool" else "AdaptiveMaxPool"
        return tb.nd(prefix, len(shape) - 1)(self.size)


class AdaptiveAvgPool(AdaptivePool):
    """Adaptive average pooling to a fixed output size (PyTorch AdaptiveAvgPool; AlexNet, VGG)."""

    kind: ClassVar[str] = "adaptiveavgpool"
    COST = "0 params, 0 MACs; output C × size; window i = [floor(i·n/size), ceil((i + 1)·n/size))"
    EXAMPLE = "adaptiveavgpool: {size: 7}"
    ARG_DOCS = {"size": "output size, per axis"}


class AdaptiveMaxPool(AdaptivePool):
    """Adaptive max pooling to a fixed output size (PyTorch AdaptiveMaxPool)."""

    kind: ClassVar[str] = "adaptivemaxpool"
    COST = "0 params, 0 MACs; output C × size; window i = [floor(i·n/size), ceil((i + 1)·n/size))"
    EXAMPLE = "adaptivemaxpool: {size: [4, 6]}"
    ARG_DOCS = {"size": "output size, per axis"}


class Upsample(Costless):
    """Nearest or (bi/tri)linear up-sampling by an integer scale per axis (align_corners=False)."""

    kind: ClassVar[str] = "upsample"
    COST = "0 params, 0 MACs (interpolation is memory traffic); output size per axis = n · scale"
    EXAMPLE = "upsample: {scale: 2, mode: bilinear}"
    scale: tuple[int, ...] = arg(pos_axes)
    mode: str = arg(choice("nearest", "bilinear"), "nearest")

    def bind(self, shape: Shape) -> Any:
        self.need_spatial(shape)
        return self

    def out_shape(self, shape: Shape) -> Shape:
        return (shape[0], *(n * s for n, s in zip(shape[1:], self.scale)))

    def rf_steps(self) -> tuple[Step, ...] | None:
        return tuple(IDENTITY if s == 1 else Up(self.mode, s) for s in self.scale)

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        from ..ops import numpy_ops as ops

        return lambda x: ops.upsample(x, self.scale, self.mode)

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        nd = len(shape) - 1
        mode = "nearest" if self.mode == "nearest" else ("linear", "bilinear", "trilinear")[nd - 1]
        extra = {} if mode == "nearest" else {"align_corners": False}
        return tb.nn.Upsample(scale_factor=tuple(float(s) for s in self.scale), mode=mode, **extra)
