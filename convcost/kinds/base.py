"""The Kind base class: a frozen value type per layer kind with its cost formulas.

A kind declares its arguments as class attributes made with ``arg(converter, default)``;
``Kind.parse`` validates a YAML mapping against them (unknown names get a suggestion).
Shapes are channels first, without the batch: ``(C, *spatial)``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, ClassVar, NamedTuple, TypeVar

from ..errors import ConvcostError, closest, describe
from ..model.rf import IDENTITY, Step
from .args import REQUIRED, Converter

Shape = tuple[int, ...]
K = TypeVar("K", bound="Kind")


class Field:
    """A declared attribute of a kind: a YAML argument (with a converter) or an internal value."""

    __slots__ = ("name", "convert", "default")

    def __init__(self, convert: Converter | None, default: Any) -> None:
        self.name, self.convert, self.default = "", convert, default


#: What each argument name means, for every kind that takes it (a kind may say otherwise in ARG_DOCS).
ARGUMENT_DOCS = {
    "out": "output channels (features for linear)",
    "kernel": "kernel size, one value for every spatial axis or one per axis",
    "stride": "step between windows, per axis",
    "padding": "zeros added: an int, one per axis, [[before, after], ...] per axis, same (out = ceil(in / stride)) or valid (0)",
    "dilation": "spacing between kernel taps (the dilated kernel spans d·(k − 1) + 1)",
    "groups": "channel groups: C_in and out are each split into this many, connected group to group",
    "bias": "a learned bias per output channel",
    "multiplier": "depth multiplier: output channels per input channel of the depthwise part",
    "output_padding": "extra size added on one side of the output, per axis (PyTorch ConvTranspose)",
    "offset_groups": "groups of input channels sharing one set of sampling offsets",
    "modulated": "v2: a learned modulation mask per sampling point (3·K offset channels instead of 2·K)",
    "classes": "number of classes n (n ≤ C)",
    "ceil_mode": "round the output size up instead of down (PyTorch ceil_mode)",
    "p": "drop probability at training time (no effect on the counts: inference)",
    "per_channel": "one slope per channel instead of one for all",
    "reduction": "squeeze ratio r: the hidden width is C / r",
    "chunks": "number of equal channel chunks",
    "index": "which chunk to keep, from 0",
    "scale": "upsampling factor, per axis",
    "mode": "interpolation: nearest or bilinear (align_corners=False)",
    "size": "output size, one value for every spatial axis or one per axis",
    "squeeze": "the hidden width S itself (else C / reduction)",
    "divisor": "round C / reduction to a multiple of this, as torchvision's _make_divisible (MobileNetV3: 8)",
}


#: Other frameworks' names of arguments (PyTorch, Keras) → the hint an unknown-argument error gives.
ARGUMENT_ALIASES = {
    "out_channels": "out",
    "filters": "out",
    "channels": "out",
    "out_features": "out",
    "units": "out",
    "kernel_size": "kernel",
    "pool_size": "kernel",
    "strides": "stride",
    "dilation_rate": "dilation",
    "use_bias": "bias",
}
_INFERRED = ("in_channels", "in_features", "input_channels")  #: read from the previous layer's output


def argument_hint(name: object, known: Collection[str]) -> str:
    """How an unknown argument name should be written: another framework's name, else the closest known one."""
    if str(name) in _INFERRED:
        return f" (the input channels are inferred from the previous layer: drop {name})"
    alias = ARGUMENT_ALIASES.get(str(name))
    if alias in known:
        return f" (did you mean '{alias}'? convcost calls {name} {alias})"
    return closest(str(name), known)


def arg(convert: Converter, default: Any = REQUIRED) -> Any:
    """A layer argument: its converter and its YAML-level default (REQUIRED when it has none)."""
    return Field(convert, default)


def internal() -> Any:
    """An attribute that is not a YAML argument (set by ``__post_init__``)."""
    return Field(None, None)


def fit_error(message: str, arg_name: str | None = None) -> ConvcostError:
    """A misfit between a layer's arguments and its input shape (an input error)."""
    return ConvcostError(message, path=arg_name)


class Kind:
    """A frozen value: ``ndim`` (spatial axes of the stack) plus the declared fields.

    Fields are declared as class attributes made by ``arg()`` or ``internal()``; a subclass may
    redeclare an inherited one. Values compare and hash by type and fields; ``replace`` copies.
    (Plain classes rather than dataclasses: generating ~35 dataclasses cost 50 ms at start-up.)
    """

    kind: ClassVar[str] = "?"
    COST: ClassVar[str] = ""  #: params, MACs and output size in words (the reference; a test requires it)
    EXAMPLE: ClassVar[str] = ""  #: one YAML layer that analyses (the reference runs it)
    ARG_DOCS: ClassVar[dict[str, str]] = {}  #: meanings of this kind's arguments where they differ from ARGUMENT_DOCS
    SHORTHAND: ClassVar[bool] = False  #: takes ``bn:`` and ``act:``
    GLOBAL: ClassVar[bool] = False  #: sees the whole input at once: no receptive field
    MERGE: ClassVar[bool] = False  #: reads several tensors (kinds/merge.py): its functions take the list of them
    UNCOUNTED: ClassVar[bool] = False  #: stands for an op whose cost is not known (analysis warns)
    VIEW: ClassVar[bool] = False  #: its output is a view of its input (the same memory: flatten, slices)
    CLASSIFIER: ClassVar[bool] = False  #: may give the model's outputs their class count (width scaling keeps it)
    NOT_REWRITTEN: ClassVar[str] = ""  #: why compare's conv rewrites leave this kind alone, said beside them
    FIELDS: ClassVar[dict[str, Field]] = {}
    ndim: int

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields = dict(cls.FIELDS)
        for name, value in list(vars(cls).items()):
            if isinstance(value, Field):
                value.name = name
                fields[name] = value
                delattr(cls, name)
        cls.FIELDS = fields

    def __init__(self, ndim: int = 0, **values: Any) -> None:
        unknown = set(values) - set(self.FIELDS)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field(s) {sorted(unknown)}")
        object.__setattr__(self, "ndim", ndim)
        for name in self.FIELDS:
            object.__setattr__(self, name, values.get(name))
        self.__post_init__()

    def __post_init__(self) -> None:
        """Derive internal fields and defaults that depend on other fields."""

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def _key(self) -> tuple[Any, ...]:
        return (type(self), self.ndim, *(getattr(self, n) for n in self.FIELDS))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Kind) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{n}={getattr(self, n)!r}' for n in self.FIELDS)})"

    def replace(self: K, **changes: Any) -> K:
        values = {n: getattr(self, n) for n in self.FIELDS}
        values.update(changes)
        return type(self)(ndim=self.ndim, **values)

    # --- construction -----------------------------------------------------------------
    @classmethod
    def arguments(cls) -> dict[str, Field]:
        return {name: f for name, f in cls.FIELDS.items() if f.convert is not None}

    @classmethod
    def parse(cls: type[K], args: Mapping[str, Any], ndim: int, marks: Any = None) -> K:
        """Validate YAML arguments (name/bn/act already removed) into a value of this kind."""
        known, values = cls.arguments(), {}
        for key, value in args.items():
            if key not in known:
                options = ", ".join(known) or "no arguments"
                raise ConvcostError(f"unknown argument '{key}' for {cls.kind}; expected {options}{argument_hint(key, known)}",
                                    path=str(key), mark=marks.get(key) if marks else None)  # fmt: skip
            try:
                values[key] = known[key].convert(value, ndim)  # type: ignore[misc]  # arguments() keeps only fields with a converter
            except ConvcostError as exc:
                raise exc.located(str(key), marks.get(key) if marks else None) from None
        for key, spec in known.items():
            if key not in values:
                if spec.default is REQUIRED:
                    raise ConvcostError(f"missing argument '{key}' for {cls.kind}")
                values[key] = None if spec.default is None else spec.convert(spec.default, ndim)  # type: ignore[misc]  # arguments() keeps only fields with a converter
        return cls(ndim=ndim, **values)

    # --- shape and cost (elementwise defaults) ----------------------------------------
    def bind(self: K, shape: Shape) -> K:
        """Check the input shape; resolve anything that depends on it ('same' padding)."""
        return self

    def out_shape(self, shape: Shape) -> Shape:
        return shape

    def params(self, shape: Shape) -> int:
        """Learned parameters. Every kind states its own (Costless says 0 on purpose): a forgotten
        formula fails loudly instead of counting nothing."""
        raise NotImplementedError(f"kind '{self.kind}' states no params formula")

    def macs(self, shape: Shape, out: Shape) -> int:
        """Multiply–accumulates for one sample (see params)."""
        raise NotImplementedError(f"kind '{self.kind}' states no MACs formula")

    def products(self, shape: Shape, out: Shape) -> list[tuple[int, str]]:
        """The forward MACs as the products they are, for the backward pass (analysis.training):
        (MACs, operand) where operand is ``input`` (weights times the layer's input), ``inner``
        (weights times a tensor computed inside the layer) or ``pair`` (two computed tensors, no
        weights: attention's q·kᵀ). The default: all MACs are one product of weights with the
        input (conv, linear)."""
        macs = self.macs(shape, out)
        return [(macs, "input")] if macs else []

    def saved(self, shape: Shape, out: Shape, trained: bool) -> list[Saved] | None:
        """The tensors autograd keeps for this layer's backward pass when its output needs a
        gradient (analysis.training), as PyTorch's own ops save them; ``trained``: its weights
        are. None: not known (the analysis warns and leaves it out)."""
        return None

    def widened(self, scale: Callable[[int], int]) -> Kind:
        """This layer with its channel counts scaled (analysis.scaling): an ``out:``, by default."""
        return self.replace(out=scale(self.out)) if "out" in self.FIELDS else self  # type: ignore[attr-defined]  # declared where FIELDS has it

    def overwrites_input(self, shape: Shape) -> bool:
        """Whether a runtime can write this layer's output over its input's buffer when nothing
        else reads that input (memory plan ``inplace``): elementwise layers, depthwise convs."""
        return False

    # --- execution: the kind's own implementations (numpy and torch are imported lazily) ----
    INIT: ClassVar[str] = "fan_in"  #: how its random weights are drawn: fan_in | norm (scale ≈ 1, shift ≈ 0) | slope

    def param_shapes(self, shape: Shape) -> list[tuple[int, ...]]:
        """Parameter shapes in the registration order of its torch module (weights are shared)."""
        raise NotImplementedError(f"kind '{self.kind}' states no parameter shapes")

    def numpy_fn(self, shape: Shape, weights: list[Any]) -> Any:
        """A numpy function of x (N, C, *spatial) with these weights."""
        raise NotImplementedError(f"kind '{self.kind}' has no numpy function")

    def describe_uncounted(self) -> str:
        """What an UNCOUNTED layer stands for, in its warning."""
        return f"kind {self.kind}"

    def torch_module(self, shape: Shape) -> Any:
        """An equivalent torch module (its parameters in ``param_shapes`` order)."""
        raise NotImplementedError(f"kind '{self.kind}' has no torch module")

    def device_class(self, shape: Shape, out: Shape) -> tuple[str, int]:
        """(class, channels per group) under which a device profile calibrates this layer's speed
        (``device.profiles.CLASSES``): 'memory' when it has no MACs, else 'conv' unless a kind says
        otherwise."""
        return ("memory", 0) if self.macs(shape, out) == 0 else ("conv", shape[0] if shape else 0)

    def rf_steps(self) -> tuple[Step, ...] | None:
        """One receptive-field step per spatial axis; None when the layer sees everything."""
        return None if self.GLOBAL else (IDENTITY,) * self.ndim

    def run_taps(self) -> tuple[tuple[int, int], ...] | None:
        """For gridding runs: (kernel, dilation) per axis of a stride-1 conv, () for a layer that
        does not break a run (norms, activations, 1×1 convs), None for one that does."""
        return None

    # --- helpers ----------------------------------------------------------------------
    def need_spatial(self, shape: Shape) -> None:
        if len(shape) != self.ndim + 1:
            raise fit_error(f"{self.kind} expects an input [C, {self.ndim} spatial dims], found {list(shape)}")


class Saved(NamedTuple):
    """A tensor autograd keeps for a layer's backward pass (Kind.saved)."""

    what: str  #: "input" (the layer's first input), "inputs" (every input), "output", "inner" (a tensor of its own),
    #: or "products" (the n − 2 running products of a product of n tensors, each of the output's size)
    elements: int = 0  #: inner: its elements
    itemsize: int = 0  #: bytes per element; 0: the dtype's (8: int64 indices)
    per_sample: bool = True  #: scales with the batch (False: a BN's batch statistics)
    if_input_grad: bool = False  #: kept only when an input needs a gradient


INPUT, OUTPUT = Saved("input"), Saved("output")


class Costless(Kind):
    """A kind that says explicitly that it has no parameters and no multiply–accumulates
    (elementwise, pooling, reshaping, interpolation: their cost is memory traffic)."""

    def param_shapes(self, shape: Shape) -> list[tuple[int, ...]]:
        return []

    def params(self, shape: Shape) -> int:
        return 0

    def macs(self, shape: Shape, out: Shape) -> int:
        return 0

    def saved(self, shape: Shape, out: Shape, trained: bool) -> list[Saved] | None:
        return []  # reshaping, interpolation, adds and concats: their backward needs no tensor


def need_divisible(value: int, by: int, what: str, arg_name: str) -> None:
    if by <= 0 or value % by:
        raise fit_error(f"{what}={value} is not divisible by {arg_name}={by}", arg_name)


__all__ = ["Kind", "Shape", "arg", "argument_hint", "internal", "fit_error", "need_divisible", "describe"]
