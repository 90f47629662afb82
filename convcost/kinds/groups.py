"""Named groups of kinds, defined once next to the kinds (as tinygrad's ``GroupOp``): a module that
asks whether a kind is an activation, a norm or a shape-keeping per-position layer asks here,
instead of listing kind names of its own."""

from __future__ import annotations

from . import KINDS
from .args import GATES as GATE_NAMES
from .misc import ACTIVATION_KINDS, BatchNorm, ScaleShift, Transparent

#: elementwise activations (relu … softmax, identity): what `act:` may name
ACTIVATIONS: frozenset[str] = frozenset(ACTIVATION_KINDS)
#: the activations that other formats have as one op: kind → (its ATen op, its ONNX op or None);
#: the importers' tables are read from here (relu6 and softmax take arguments: each reader checks them)
ACTIVATION_OPS: dict[str, tuple[str, str | None]] = {
    "relu": ("relu", "Relu"), "sigmoid": ("sigmoid", "Sigmoid"), "tanh": ("tanh", "Tanh"), "silu": ("silu", None),
    "gelu": ("gelu", "Gelu"), "hswish": ("hardswish", "HardSwish"), "hsigmoid": ("hardsigmoid", "HardSigmoid"),
    "leakyrelu": ("leaky_relu", "LeakyRelu"),
}  # fmt: skip
assert set(ACTIVATION_OPS) <= ACTIVATIONS
#: activations the importers name where an op's arguments make one (hardtanh(0, 6), x · sigmoid(x))
RELU, RELU6, SIGMOID, SILU, SOFTMAX = "relu", "relu6", "sigmoid", "silu", "softmax"
assert {RELU, RELU6, SIGMOID, SILU, SOFTMAX} <= ACTIVATIONS
#: what may gate a squeeze-and-excitation
GATES: frozenset[str] = frozenset(GATE_NAMES)
#: norms with a learned scale and shift per channel (bn, gn, layernorm)
NORMS: frozenset[str] = frozenset(k for k, cls in KINDS.items() if issubclass(cls, ScaleShift))
#: per-position layers that keep the shape (norms, activations, dropout, layer scale, prelu)
TRANSPARENT: frozenset[str] = frozenset(k for k, cls in KINDS.items() if issubclass(cls, Transparent))
#: the layers the `bn:` and `act:` shorthands of a conv append after it
SHORTHAND: frozenset[str] = frozenset((BatchNorm.kind, *ACTIVATIONS))
#: the merge that closes a residual (a graph node, not a kind class)
ADD = "residual"


def folds_into_previous(kind: str) -> bool:
    """Whether a row of this kind folds into the row before it in a folded table: a transparent
    layer (a plugin's too), or the add that closes a residual."""
    cls = KINDS.get(kind)
    return kind == ADD or (cls is not None and issubclass(cls, Transparent))
