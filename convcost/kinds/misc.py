"""Linear, flatten, norms, activations, dropout, squeeze-and-excitation, channel shuffle."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any, ClassVar

from ..arith import prod
from ..yamlio.expr import divisible
from .args import ACTIVATIONS, GATES, boolean, choice, nonneg_int, number, pos_int, probability, shape_list, text
from .base import INPUT, OUTPUT, Costless, Kind, Saved, Shape, arg, fit_error, need_divisible


class Linear(Kind):
    """Fully connected on the flattened input: in·out weights (+ out bias), in·out MACs."""

    kind: ClassVar[str] = "linear"
    CLASSIFIER: ClassVar[bool] = True
    COST = "params = in · out (+ out); MACs = in · out (in = every input element); output [out]"
    EXAMPLE = "linear: {out: 1000}"
    GLOBAL: ClassVar[bool] = True
    out: int = arg(pos_int)
    bias: bool = arg(boolean, True)

    def out_shape(self, shape: Shape) -> Shape:
        return (self.out,)

    def params(self, shape: Shape) -> int:
        return prod(shape) * self.out + (self.out if self.bias else 0)

    def macs(self, shape: Shape, out: Shape) -> int:
        return prod(shape) * self.out

    def param_shapes(self, shape: Shape) -> list[tuple[int, ...]]:
        return [(self.out, prod(shape))] + ([(self.out,)] if self.bias else [])

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        bias = w[1] if self.bias else 0
        return lambda x: x.reshape(x.shape[0], -1) @ w[0].T + bias

    def saved(self, shape: Shape, out: Shape, trained: bool) -> list[Saved] | None:
        return [INPUT] if trained else []  # (flattened: a view of it) x·Wᵀ keeps x for W's gradient only (a conv keeps it always)

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        return tb.nn.Sequential(tb.nn.Flatten(), tb.nn.Linear(prod(shape), self.out, bias=self.bias))

    def device_class(self, shape: Shape, out: Shape) -> tuple[str, int]:
        return ("memory", 0) if self.macs(shape, out) == 0 else ("linear", 0)


class Flatten(Costless):
    """The input as one dimension."""

    kind: ClassVar[str] = "flatten"
    COST = "0 params, 0 MACs; output [C · spatial]"
    EXAMPLE = "flatten"
    GLOBAL: ClassVar[bool] = True

    VIEW: ClassVar[bool] = True

    def out_shape(self, shape: Shape) -> Shape:
        return (prod(shape),)

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        return lambda x: x.reshape(x.shape[0], -1)

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        return tb.nn.Flatten()


class Transparent(Costless):
    """Layers that keep the shape and do not break a run of convs (for gridding)."""

    def run_taps(self) -> tuple[tuple[int, int], ...] | None:
        return ()

    def overwrites_input(self, shape: Shape) -> bool:
        return True


class ScaleShift(Transparent):
    """Norms with a learned scale and shift per channel: 2·C parameters."""

    INIT: ClassVar[str] = "norm"

    def params(self, shape: Shape) -> int:
        return 2 * shape[0]

    def saved(self, shape: Shape, out: Shape, trained: bool) -> list[Saved] | None:
        """Training-mode batch norm: its input and the batch's mean and inverse deviation (C each)."""
        return [INPUT, Saved("inner", 2 * shape[0], per_sample=False)]

    def param_shapes(self, shape: Shape) -> list[tuple[int, ...]]:
        return [(shape[0],), (shape[0],)]


class BatchNorm(ScaleShift):
    """Scale and shift per channel: 2·C parameters (running statistics are buffers)."""

    kind: ClassVar[str] = "bn"
    COST = "params = 2·C (scale and shift; running statistics are buffers); 0 MACs; shape kept"
    EXAMPLE = "bn"

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        import numpy as np

        from ..ops import numpy_ops as ops

        scale = w[0] / np.sqrt(np.float32(1 + 1e-5))  # running mean 0, variance 1: a fresh module in eval mode
        return lambda x: ops.affine(x, scale, w[1])

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        return tb.nd("BatchNorm", max(len(shape) - 1, 1))(shape[0])


class GroupNorm(BatchNorm):
    """Group normalisation: statistics over groups of channels; scale and shift per channel."""

    kind: ClassVar[str] = "gn"
    COST = "params = 2·C; 0 MACs; shape kept; C divisible by groups"
    EXAMPLE = "gn: {groups: 8}"
    ARG_DOCS = {"groups": "groups of channels normalised together"}
    groups: int = arg(pos_int)

    def saved(self, shape: Shape, out: Shape, trained: bool) -> list[Saved] | None:
        return [INPUT, Saved("inner", 2 * self.groups)]  # its input, a mean and an inverse deviation per group

    def bind(self, shape: Shape) -> Any:
        need_divisible(shape[0], self.groups, "C", "groups")
        return self

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        import numpy as np

        from ..ops import numpy_ops as ops

        g = self.groups

        def group_norm(x: Any) -> Any:
            y = x.reshape(x.shape[0], g, -1)
            y = (y - y.mean(axis=2, keepdims=True)) / np.sqrt(y.var(axis=2, keepdims=True) + 1e-5)
            return ops.affine(y.reshape(x.shape), w[0], w[1])

        return group_norm

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        return tb.nn.GroupNorm(self.groups, shape[0])


class Activation(Transparent):
    """Elementwise, no parameters (softmax is over channels)."""

    COST = "0 params, 0 MACs; shape kept"

    def saved(self, shape: Shape, out: Shape, trained: bool) -> list[Saved] | None:
        return activation_saved(self.kind)

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        from ..ops import numpy_ops as ops

        return ops.softmax if self.kind == "softmax" else ops.ACTIVATIONS[self.kind]

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        return tb.nn.Softmax(dim=1) if self.kind == "softmax" else tb.ACT[self.kind]()


#: activations whose gradient PyTorch computes from their output (the others: from their input)
FROM_OUTPUT = frozenset({"relu", "sigmoid", "tanh", "softmax"})


def activation_saved(name: str) -> list[Saved]:
    return [] if name == "identity" else [OUTPUT if name in FROM_OUTPUT else INPUT]


#: One subclass per activation name; they add no fields, so they need no dataclass decorator.
ACTIVATION_KINDS: dict[str, type[Kind]] = {
    name: type(
        f"Act_{name}",
        (Activation,),
        {"kind": name, "EXAMPLE": name, "VIEW": name == "identity", "__doc__": f"The {name} activation: elementwise, no parameters."},
    )
    for name in ACTIVATIONS
}


class PReLU(Transparent):
    """Parametric ReLU: a learned negative slope."""

    kind: ClassVar[str] = "prelu"
    COST = "params = 1, or C per channel; 0 MACs; shape kept"
    EXAMPLE = "prelu: {per_channel: true}"
    per_channel: bool = arg(boolean, False)

    INIT: ClassVar[str] = "slope"

    def saved(self, shape: Shape, out: Shape, trained: bool) -> list[Saved] | None:
        return [INPUT]

    def params(self, shape: Shape) -> int:
        return shape[0] if self.per_channel else 1

    def param_shapes(self, shape: Shape) -> list[tuple[int, ...]]:
        return [(self.params(shape),)]

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        import numpy as np

        from ..ops import numpy_ops as ops

        return lambda x: np.where(x >= 0, x, x * (w[0].reshape(ops.channel_shape(x)) if w[0].size > 1 else w[0]))

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        return tb.nn.PReLU(self.params(shape))


class Dropout(Transparent):
    """Dropout: the identity at inference."""

    kind: ClassVar[str] = "dropout"
    COST = "0 params, 0 MACs; shape kept"
    EXAMPLE = "dropout: {p: 0.2}"
    p: float = arg(probability, 0.5)

    def saved(self, shape: Shape, out: Shape, trained: bool) -> list[Saved] | None:
        return [Saved("inner", prod(shape))]  # the scaled keep-mask, in the dtype (PyTorch on the CPU; CUDA keeps a bool one)

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        return lambda x: x

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        return tb.nn.Dropout(self.p)


class SE(Kind):
    """Squeeze-and-excitation: gap → linear C→S (bias) → act → linear S→C (bias) → gate →
    channel scale (S = squeeze, or C/reduction rounded to a multiple of divisor). Its gating
    branch is ignored for the receptive field."""

    kind: ClassVar[str] = "se"
    COST = "params = 2·C·S + S + C; MACs = 2·C·S (the two linears); shape kept"
    EXAMPLE = "se: {reduction: 4, divisor: 8, act: relu, gate: hsigmoid}"
    ARG_DOCS = {"act": "the activation between the two linears (relu; silu in EfficientNet)",
                "gate": "the gate: sigmoid, or hsigmoid (MobileNetV3)"}  # fmt: skip
    reduction: int = arg(pos_int, 16)
    squeeze: int | None = arg(pos_int, None)
    divisor: int | None = arg(pos_int, None)
    act: str = arg(choice(*ACTIVATIONS), "relu")
    gate: str = arg(choice(*GATES), "sigmoid")

    def hidden(self, c: int) -> int:
        """S: the squeeze width given, else C / reduction (rounded like torchvision's
        _make_divisible when a divisor is given, else floored)."""
        if self.squeeze is not None:
            return self.squeeze
        if self.divisor is not None:
            return int(divisible(Fraction(c, self.reduction), Fraction(self.divisor)))
        return c // self.reduction

    def bind(self, shape: Shape) -> Any:
        if self.hidden(shape[0]) < 1:
            raise fit_error(f"reduction {self.reduction} leaves no hidden units for C={shape[0]}", "reduction")
        return self

    def params(self, shape: Shape) -> int:
        c, h = shape[0], self.hidden(shape[0])
        return c * h + h + h * c + c

    def macs(self, shape: Shape, out: Shape) -> int:
        return 2 * shape[0] * self.hidden(shape[0])

    def products(self, shape: Shape, out: Shape) -> list[tuple[int, str]]:
        half = shape[0] * self.hidden(shape[0])
        return [(half, "input"), (half, "inner")]  # the squeeze reads the input's mean; the excitation, the squeeze

    def saved(self, shape: Shape, out: Shape, trained: bool) -> list[Saved] | None:
        """The input (x · gate keeps both), the pooled vector (C, for fc1), the hidden one (S,
        twice when the activation keeps its input: fc2 reads its output) and the gate (C, twice
        likewise)."""
        c, h = shape[0], self.hidden(shape[0])
        hidden = h * (1 if self.act in FROM_OUTPUT else 2)
        gate = c * (1 if self.gate in FROM_OUTPUT else 2)
        pooled = c if len(shape) > 1 else 0  # without spatial axes fc1 reads the input itself
        return [INPUT, Saved("inner", pooled + hidden + gate)]

    def widened(self, scale: Callable[[int], int]) -> Kind:
        return self if self.squeeze is None else self.replace(squeeze=scale(self.squeeze))  # a ratio follows the channels itself

    def overwrites_input(self, shape: Shape) -> bool:
        return True  # the gate is computed from the input's mean first, then the input scaled channel by channel

    def param_shapes(self, shape: Shape) -> list[tuple[int, ...]]:
        c, h = shape[0], self.hidden(shape[0])
        return [(h, c), (h,), (c, h), (c,)]

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:

        from ..ops import numpy_ops as ops

        act, gate = ops.ACTIVATIONS[self.act], ops.ACTIVATIONS[self.gate]

        def excite(x: Any) -> Any:
            s = ops.global_pool(x).reshape(x.shape[:2]) if x.ndim > 2 else x
            s = gate(act(s @ w[0].T + w[1]) @ w[2].T + w[3])
            return ops.scale_rows(x, s)

        return excite

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        return tb.SqueezeExcite(shape[0], self.hidden(shape[0]), tb.ACT[self.act](), tb.ACT[self.gate](), len(shape) - 1)


class LayerNorm(ScaleShift):
    """Layer normalisation over the channels at every position (ConvNeXt's LayerNorm2d, eps 1e-6)."""

    kind: ClassVar[str] = "layernorm"
    COST = "params = 2·C (scale and shift); 0 MACs; shape kept"
    EXAMPLE = "layernorm"

    def saved(self, shape: Shape, out: Shape, trained: bool) -> list[Saved] | None:
        return [INPUT, Saved("inner", 2 * prod(shape[1:]))]  # its input, a mean and an inverse deviation per position

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        from ..ops import numpy_ops as ops

        return lambda x: ops.channel_layernorm(x, w[0], w[1], 1e-6)

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        return tb.ChannelLayerNorm(shape[0], len(shape) - 1)


class LayerScale(Transparent):
    """Layer scale: a learned multiplier per channel (ConvNeXt, CaiT)."""

    kind: ClassVar[str] = "layerscale"
    COST = "params = C; 0 MACs (an elementwise product); shape kept"
    EXAMPLE = "layerscale"
    INIT: ClassVar[str] = "norm"

    def saved(self, shape: Shape, out: Shape, trained: bool) -> list[Saved] | None:
        return [INPUT] if trained else []  # x · γ keeps x for γ's gradient

    def params(self, shape: Shape) -> int:
        return shape[0]

    def param_shapes(self, shape: Shape) -> list[tuple[int, ...]]:
        return [(shape[0],)]

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        from ..ops import numpy_ops as ops

        return lambda x: ops.affine(x, w[0])

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        return tb.ChannelScale(shape[0], len(shape) - 1)


class Scale(Transparent):
    """x · a number: a constant (Inception-ResNet's residual scaling, NFNet's α and β, a mean of
    two branches' ``/ 2``), or one learned number (``learned: true``)."""

    kind: ClassVar[str] = "scale"
    COST = "params = 1 when learned, else 0; 0 MACs (an elementwise product); shape kept"
    EXAMPLE = "scale: {by: 0.17}"
    ARG_DOCS: ClassVar[dict[str, str]] = {"by": "the number x is multiplied by (its initial value when learned)",
                                          "learned": "the number is one learned parameter"}  # fmt: skip
    by: float = arg(number, 1.0)
    learned: bool = arg(boolean, False)

    def saved(self, shape: Shape, out: Shape, trained: bool) -> list[Saved] | None:
        return [INPUT] if self.learned and trained else []  # x · w keeps x for w's gradient; x · constant keeps nothing

    def params(self, shape: Shape) -> int:
        return 1 if self.learned else 0

    def param_shapes(self, shape: Shape) -> list[tuple[int, ...]]:
        return [(1,)] if self.learned else []

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        import numpy as np

        factor = w[0].reshape(()) if self.learned else np.float32(self.by)
        return lambda x: x * factor

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        return tb.Scale(self.by, self.learned)


class DropPath(Dropout):
    """Stochastic depth (drop path): the identity at inference."""

    kind: ClassVar[str] = "droppath"
    EXAMPLE = "droppath: {p: 0.1}"

    def saved(self, shape: Shape, out: Shape, trained: bool) -> list[Saved] | None:
        return [Saved("inner", 1)]  # one keep-or-drop number per sample


class Shuffle(Costless):
    """ShuffleNet channel shuffle: a permutation, no cost."""

    kind: ClassVar[str] = "shuffle"
    COST = "0 params, 0 MACs; shape kept; C divisible by groups"
    EXAMPLE = "shuffle: {groups: 2}"
    ARG_DOCS = {"groups": "groups whose channels are interleaved"}
    groups: int = arg(pos_int)

    def bind(self, shape: Shape) -> Any:
        need_divisible(shape[0], self.groups, "C", "groups")
        return self

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        import numpy as np

        g = self.groups
        return lambda x: np.ascontiguousarray(x.reshape(x.shape[0], g, -1, *x.shape[2:]).swapaxes(1, 2)).reshape(x.shape)

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        return tb.Shuffle(self.groups)


class Chunk(Costless):
    """One of ``chunks`` equal channel groups (``torch.chunk(x, chunks, dim=1)[index]``): ShuffleNet v2's split."""

    kind: ClassVar[str] = "chunk"
    COST = "0 params, 0 MACs; output C/chunks channels, spatial kept"
    EXAMPLE = "chunk: {chunks: 2, index: 1}"
    chunks: int = arg(pos_int)
    index: int = arg(nonneg_int)

    VIEW: ClassVar[bool] = True

    def bind(self, shape: Shape) -> Any:
        need_divisible(shape[0], self.chunks, "C", "chunks")
        if self.index >= self.chunks:
            raise fit_error(f"index {self.index} is not below chunks={self.chunks}", "index")
        return self

    def out_shape(self, shape: Shape) -> Shape:
        return (shape[0] // self.chunks, *shape[1:])

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        size, index = shape[0] // self.chunks, self.index
        return lambda x: x[:, index * size : (index + 1) * size]

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        return tb.Chunk(self.chunks, self.index)


class Slice(Costless):
    """Channels ``start`` to ``end`` (``x[:, start:end]``): the unequal channel groups DPN,
    ReXNet and InceptionNeXt split a tensor into."""

    kind: ClassVar[str] = "slice"
    COST = "0 params, 0 MACs; output end − start channels, spatial kept"
    EXAMPLE = "slice: {start: 0, end: 5}"
    ARG_DOCS: ClassVar[dict[str, str]] = {"start": "the first channel kept", "end": "the channel after the last one kept"}
    start: int = arg(nonneg_int)
    end: int = arg(pos_int)

    VIEW: ClassVar[bool] = True

    def bind(self, shape: Shape) -> Any:
        if not self.start < self.end <= shape[0]:
            raise fit_error(f"channels {self.start}:{self.end} of {shape[0]}: expected 0 ≤ start < end ≤ C", "end")
        return self

    def out_shape(self, shape: Shape) -> Shape:
        return (self.end - self.start, *shape[1:])

    def numpy_fn(self, shape: Shape, w: list[Any]) -> Any:
        start, end = self.start, self.end
        return lambda x: x[:, start:end]

    def torch_module(self, shape: Shape) -> Any:
        from ..ops import torch_modules as tb

        return tb.Slice(self.start, self.end)


class Unknown(Kind):
    """An op with no convcost kind (``convcost import --allow-unknown``): its output shape is
    kept and every table says so; its cost is what torch counts for it (``torch_macs``,
    ``torch_params``), or not counted."""

    kind: ClassVar[str] = "unknown"
    COST = (
        "params = torch_params, MACs = torch_macs (0 when not given: not counted; a warning names it); output = shape; no receptive field"
    )
    EXAMPLE = "unknown: {op: torch.roll, shape: [16, 32, 32]}"
    ARG_DOCS: ClassVar[dict[str, str]] = {
        "op": "the op as its source names it",
        "shape": "its output shape: channels, then each spatial size",
        "torch_macs": "MACs by torch's own FLOP formula for the op (FLOPs ÷ 2), where torch has one; counted",
        "torch_params": "learned parameters the op reads, by torch's count; counted",
    }
    GLOBAL: ClassVar[bool] = True
    UNCOUNTED: ClassVar[bool] = True
    op: str = arg(text)
    shape: tuple[int, ...] = arg(shape_list)
    torch_macs: int = arg(nonneg_int, 0)
    torch_params: int = arg(nonneg_int, 0)

    def saved(self, shape: Shape, out: Shape, trained: bool) -> list[Saved] | None:
        return None

    def describe_uncounted(self) -> str:
        counted = [f"{n:,} {what}" for n, what in ((self.torch_params, "params"), (self.torch_macs, "MACs")) if n]
        return f"op {self.op}" + (f" ({' and '.join(counted)} by torch's own count)" if counted else "")

    def out_shape(self, shape: Shape) -> Shape:
        return tuple(self.shape)

    def params(self, shape: Shape) -> int:
        return self.torch_params

    def param_shapes(self, shape: Shape) -> list[tuple[int, ...]]:
        return []  # nothing to build: execution refuses an unknown layer

    def macs(self, shape: Shape, out: Shape) -> int:
        return self.torch_macs

    def products(self, shape: Shape, out: Shape) -> list[tuple[int, str]]:
        return []  # its backward is not known (analysis.training warns)
