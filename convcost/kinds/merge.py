"""Kinds that read several tensors (SPEC §8): elementwise ``add``, ``sub``, ``mul``, ``div`` with
broadcasting, and ``concat`` along an axis. Also the joins a ``residual`` and a ``concat`` with
branches lower to (kinds ``residual`` and ``concat`` in every table, as before the graph).

They cost 0 params and 0 MACs (their cost is memory traffic, SPEC §2). Their receptive field is
the union of their inputs' (the program merges them); their shape comes from ``merge_shape``.
"""

from __future__ import annotations

import functools
import operator
from typing import Any, ClassVar

from ..errors import ConvcostError, describe
from .args import boolean
from .base import Costless, Saved, Shape, arg, fit_error, internal


def axis_arg(value: Any, ndim: int = 0) -> int:
    """An axis of a tensor without the batch: 0 is channels, 1.. the spatial axes, -1 the last."""
    if isinstance(value, bool) or not isinstance(value, int) or not -(ndim + 1) <= value <= ndim:
        raise ConvcostError(f"expected an axis from {-(ndim + 1)} to {ndim} (0 = channels, then the spatial axes; "
                            f"negative counts from the last), found {describe(value)}")  # fmt: skip
    return value


class Merge(Costless):
    """A kind of several inputs: ``merge_shape`` checks them and gives the output."""

    MERGE: ClassVar[bool] = True
    ARITY: ClassVar[tuple[int, int | None]] = (2, None)  #: the fewest and the most inputs

    def check_arity(self, count: int) -> None:
        low, high = self.ARITY
        if count < low or (high is not None and count > high):
            want = f"exactly {low}" if low == high else f"at least {low}"
            raise fit_error(f"{self.kind} reads {want} tensors (from: [a, b{', …' if high is None else ''}]), found {count}", "from")

    def merge_shape(self, shapes: tuple[Shape, ...]) -> Shape:
        raise NotImplementedError(f"kind '{self.kind}' states no merge shape")

    def bind_many(self, shapes: tuple[Shape, ...]) -> Merge:
        """This kind for these inputs (one that counts its inputs records how many)."""
        return self


class Elementwise(Merge):
    """Elementwise over equal shapes, or broadcast along axes of size 1 (``[C, 1, 1]`` with
    ``[C, H, W]``, ``[1, H, W]`` with ``[C, 1, 1]``), as torch broadcasts; same rank."""

    COST = "0 params, 0 MACs; output: the broadcast shape of its inputs (equal, or 1 on an axis)"
    SYMBOL: ClassVar[str] = "+"
    FN: ClassVar[Any] = operator.add

    def merge_shape(self, shapes: tuple[Shape, ...]) -> Shape:
        self.check_arity(len(shapes))
        ranks = {len(s) for s in shapes}
        if len(ranks) > 1:
            raise fit_error(f"{self.kind} of tensors of different ranks: {', '.join(str(list(s)) for s in shapes)}", "from")
        out = []
        for axis, sizes in enumerate(zip(*shapes)):
            big = {s for s in sizes if s != 1}
            if len(big) > 1:
                raise fit_error(f"{self.kind} of {', '.join(str(list(s)) for s in shapes)}: axis {axis} has sizes "
                                f"{', '.join(map(str, sorted(big)))} (they must be equal, or 1 to broadcast)", "from")  # fmt: skip
            out.append(big.pop() if big else 1)
        return tuple(out)

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        fn = type(self).FN
        return lambda xs: functools.reduce(fn, xs)

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        return tb.Elementwise(self.SYMBOL)


class Add(Elementwise):
    """Sum of two or more tensors (an FPN's lateral join, a residual written with ``from:``);
    ``weighted``: EfficientDet's fast normalized fusion, Σ wᵢ·xᵢ with wᵢ = relu(pᵢ) / (Σ relu(p) +
    10⁻⁴) and one learned pᵢ per input (BiFPN)."""

    kind: ClassVar[str] = "add"
    COST = "params = 0, or one per input when weighted; 0 MACs; output: the broadcast shape of its inputs"
    EXAMPLE = "add: {from: [-1, -1], weighted: true}"
    ARG_DOCS: ClassVar[dict[str, str]] = {"weighted": "one learned weight per input, normalized (EfficientDet's fast fusion)"}
    weighted: bool = arg(boolean, False)
    count: int = internal()  #: how many tensors it adds (known once bound)

    def bind_many(self, shapes: tuple[Shape, ...]) -> Add:
        return self if self.count == len(shapes) else self.replace(count=len(shapes))

    def params(self, shape: Shape) -> int:
        return (self.count or 0) if self.weighted else 0

    def param_shapes(self, shape: Shape) -> list[tuple[int, ...]]:
        return [(self.count,)] if self.weighted else []

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        if not self.weighted:
            return super().numpy_fn(shape, w)
        import numpy as np

        weights = np.maximum(w[0], 0)
        weights = weights / (weights.sum() + 1e-4)
        return lambda xs: functools.reduce(operator.add, (wi * x for wi, x in zip(weights, xs)))

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        return tb.FastFusion(self.count) if self.weighted else super().torch_module(shape)

    def saved(self, shape: Shape, out: Shape, trained: bool) -> list[Saved] | None:
        """A plain sum keeps nothing. Weighted and trained: each input (wᵢ·xᵢ keeps xᵢ for wᵢ's
        gradient) and the weights' own small tensors: relu(p) and Σ relu(p) + 10⁻⁴, and the normalized
        weights when an input needs a gradient (wᵢ·xᵢ keeps wᵢ for xᵢ's)."""
        if not self.weighted:
            return []
        normalized = Saved("inner", self.count, per_sample=False, if_input_grad=True)
        return [Saved("inputs"), Saved("inner", self.count + 1, per_sample=False), normalized] if trained else [normalized]


class Sub(Elementwise):
    """a − b."""

    kind: ClassVar[str] = "sub"
    EXAMPLE = "sub: {from: [-1, -1]}"
    ARITY = (2, 2)
    SYMBOL = "-"
    FN = operator.sub


class Mul(Elementwise):
    """Product of two or more tensors (a gate: ``[C, 1, 1]`` times ``[C, H, W]``)."""

    kind: ClassVar[str] = "mul"
    EXAMPLE = "mul: {from: [-1, -1]}"
    SYMBOL = "*"
    FN = operator.mul

    def saved(self, shape: Shape, out: Shape, trained: bool) -> list[Saved] | None:
        """Each operand (a·b keeps b for a's gradient and a for b's; a·b·c also its running product a·b)."""
        return [Saved("inputs"), Saved("products")]


class Div(Elementwise):
    """a / b."""

    kind: ClassVar[str] = "div"
    EXAMPLE = "div: {from: [-1, -1]}"
    ARITY = (2, 2)
    SYMBOL = "/"
    FN = operator.truediv

    def saved(self, shape: Shape, out: Shape, trained: bool) -> list[Saved] | None:
        return [Saved("inputs")]  # a / b keeps both for b's gradient


class Residual(Add):
    """The join of a ``residual``: body + shortcut, equal shapes (checked where the tree is bound)."""

    kind: ClassVar[str] = "residual"
    COST = "0 params, 0 MACs; shape kept"
    ARITY = (2, 2)


class Concatenate(Merge):
    """Tensors joined along ``axis`` (channels unless given); every other axis must match. Also the
    join of a ``concat`` with branches. On a spatial axis positions of different inputs meet side
    by side, so the output has no receptive field of its own."""

    kind: ClassVar[str] = "concat"
    COST = "0 params, 0 MACs; output: the inputs' sizes summed on the axis, the other axes kept"
    ARG_DOCS: ClassVar[dict[str, str]] = {"axis": "the axis joined: 0 = channels (the default), 1.. the spatial axes, -1 the last"}
    ARITY = (1, None)
    axis: int = arg(axis_arg, 0)

    def where(self, rank: int) -> int:
        axis = self.axis + rank if self.axis < 0 else self.axis
        if not 0 <= axis < rank:
            raise fit_error(f"concat axis {self.axis} of tensors with {rank} axes", "axis")
        return axis

    def merge_shape(self, shapes: tuple[Shape, ...]) -> Shape:
        self.check_arity(len(shapes))
        first = shapes[0]
        axis = self.where(len(first))
        for i, s in enumerate(shapes[1:], 1):
            if len(s) != len(first) or s[:axis] + s[axis + 1 :] != first[:axis] + first[axis + 1 :]:
                raise fit_error(f"concat on axis {self.axis} of {list(first)} and {list(s)} (input {i}): the other axes must match", "from")
        return (*first[:axis], sum(s[axis] for s in shapes), *first[axis + 1 :])

    def rf_steps(self) -> Any:
        return super().rf_steps() if self.where(self.ndim + 1) == 0 else None

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        import numpy as np

        axis = self.where(len(shape)) + 1
        return lambda xs: np.concatenate(xs, axis=axis)

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        return tb.Cat(self.where(len(shape)) + 1)
