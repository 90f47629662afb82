"""Linear, flatten, norms, activations, dropout, squeeze-and-excitation, channel shuffle."""

from __future__ import annotations

from typing import Any, ClassVar

from ..args import ACTIVATIONS, boolean, nonneg_int, pos_int, probability
from ..arith import prod
from .base import Kind, Shape, arg, fit_error, need_divisible


class Linear(Kind):
    """Fully connected on the flattened input: in·out weights (+ out bias), in·out MACs."""

    kind: ClassVar[str] = "linear"
    GLOBAL: ClassVar[bool] = True
    out: Any = arg(pos_int)
    bias: Any = arg(boolean, True)

    def out_shape(self, shape: Shape) -> Shape:
        return (self.out,)

    def params(self, shape: Shape) -> int:
        return prod(shape) * self.out + (self.out if self.bias else 0)

    def macs(self, shape: Shape, out: Shape) -> int:
        return prod(shape) * self.out


class Flatten(Kind):
    kind: ClassVar[str] = "flatten"
    GLOBAL: ClassVar[bool] = True

    def out_shape(self, shape: Shape) -> Shape:
        return (prod(shape),)


class Transparent(Kind):
    """Layers that keep the shape and do not break a run of convs (for gridding)."""

    def run_taps(self) -> tuple[tuple[int, int], ...] | None:
        return ()


class BatchNorm(Transparent):
    """Scale and shift per channel: 2·C parameters (running statistics are buffers)."""

    kind: ClassVar[str] = "bn"

    def params(self, shape: Shape) -> int:
        return 2 * shape[0]


class GroupNorm(BatchNorm):
    kind: ClassVar[str] = "gn"
    groups: Any = arg(pos_int)

    def bind(self, shape: Shape) -> Any:
        need_divisible(shape[0], self.groups, "C", "groups")
        return self


class Activation(Transparent):
    """Elementwise, no parameters (softmax is over channels)."""


#: One subclass per activation name; they add no fields, so they need no dataclass decorator.
ACTIVATION_KINDS: dict[str, type[Kind]] = {name: type(f"Act_{name}", (Activation,), {"kind": name}) for name in ACTIVATIONS}


class PReLU(Transparent):
    kind: ClassVar[str] = "prelu"
    per_channel: Any = arg(boolean, False)

    def params(self, shape: Shape) -> int:
        return shape[0] if self.per_channel else 1


class Dropout(Transparent):
    kind: ClassVar[str] = "dropout"
    p: Any = arg(probability, 0.5)


class SE(Kind):
    """Squeeze-and-excitation: gap → linear C→C/r (bias) → relu → linear C/r→C (bias) →
    sigmoid → channel scale. Its gating branch is ignored for the receptive field."""

    kind: ClassVar[str] = "se"
    reduction: Any = arg(pos_int, 16)

    def hidden(self, c: int) -> int:
        return c // self.reduction  # type: ignore[no-any-return]

    def bind(self, shape: Shape) -> Any:
        if self.hidden(shape[0]) < 1:
            raise fit_error(f"reduction {self.reduction} leaves no hidden units for C={shape[0]}", "reduction")
        return self

    def params(self, shape: Shape) -> int:
        c, h = shape[0], self.hidden(shape[0])
        return c * h + h + h * c + c

    def macs(self, shape: Shape, out: Shape) -> int:
        return 2 * shape[0] * self.hidden(shape[0])


class Shuffle(Kind):
    """ShuffleNet channel shuffle: a permutation, no cost."""

    kind: ClassVar[str] = "shuffle"
    groups: Any = arg(pos_int)

    def bind(self, shape: Shape) -> Any:
        need_divisible(shape[0], self.groups, "C", "groups")
        return self


class Chunk(Kind):
    """``torch.chunk(x, chunks, dim=1)[index]``: one of ``chunks`` equal channel groups, no cost.
    (Not in SPEC §1.1: ShuffleNet v2 splits channels between its two branches.)"""

    kind: ClassVar[str] = "chunk"
    chunks: Any = arg(pos_int)
    index: Any = arg(nonneg_int)

    def bind(self, shape: Shape) -> Any:
        need_divisible(shape[0], self.chunks, "C", "chunks")
        if self.index >= self.chunks:
            raise fit_error(f"index {self.index} is not below chunks={self.chunks}", "index")
        return self

    def out_shape(self, shape: Shape) -> Shape:
        return (shape[0] // self.chunks, *shape[1:])
