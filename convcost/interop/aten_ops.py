"""Recorded ATen ops (``from_aten.Recording``) → ops (``nesting.Op``): one table, keyed by ATen op,
says which kind each op becomes (``TABLE``), the way ``torch.utils.flop_counter``'s registry and
fvcore's handles are keyed.

Every data tensor is a value of an op in one *layout*: ``cf`` channels first, as convcost's shapes
(``[1, C, *S]``); ``cl`` channels last (``[1, *S, C]``, after ``permute(0, 2, 3, 1)``: ConvNeXt);
``rows`` channels last with the positions in one axis (``[S, C]``, how ``nn.Linear`` runs on it);
``h1`` a 1-D tensor with a unit axis inserted (``[1, C, 1, L]``, how torch runs 1-D pooling);
``groups``/``shuffled`` the channels split into groups, before and after ShuffleNet's transpose;
``pad`` a pending ``F.pad``, taken into the conv or pool that reads it. A view between layouts is
not a layer; a per-position op (an activation, a norm over the channels, a linear on ``rows``) runs
in any of ``cf``/``cl``/``rows``; every other op needs ``cf``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from math import prod
from typing import Any

from torch import nn
from torch.utils._pytree import tree_flatten

from ..errors import ConvcostError
from ..kinds.conv import PWConv
from ..kinds.groups import ACTIVATION_OPS, RELU, RELU6, SOFTMAX
from ..kinds.misc import BatchNorm, Flatten, GroupNorm, LayerNorm, LayerScale, Linear, PReLU, Scale, Shuffle
from ..kinds.misc import Unknown as UnknownKind
from ..kinds.pool import GAP
from .from_aten import Call, Recording, Tok, run
from .kinds_map import Unknown, adaptive, channel_part, conv_entry, pool_entry, reshape_entries, upsample_entry
from .nesting import ADD, CAT, DIV, INPUT, LAYER, MUL, OUTPUTS, SUB, Entry, Op, Shape, named

CF, CL, ROWS, H1, GROUPS, SHUFFLED, PAD = "cf", "cl", "rows", "h1", "groups", "shuffled", "pad"
PER_POSITION = (CF, CL, ROWS)  #: where a per-position op may run


@dataclass(frozen=True)
class Val:
    """A data tensor: the op whose output it is, in which layout (``extra``: groups or pads)."""

    index: int
    layout: str = CF
    extra: Any = None


class Translator:
    def __init__(self, rec: Recording, input_shape: Shape, allow_unknown: bool) -> None:
        self.rec, self.allow_unknown = rec, allow_unknown
        self.out: list[Op] = [Op("input", "input", INPUT, (), tuple(input_shape))]
        self.where: list[int] = [-1]  #: the module call of each op
        self.data: dict[int, Val] = {rec.input.id: Val(0)}
        self.consts: dict[int, frozenset[int]] = {}  #: a constant → the parameters it is computed from

    # -- what handlers ask ---------------------------------------------------------------
    def shape(self, tok: Tok) -> tuple[int, ...]:
        return self.rec.shapes[tok.id]

    def is_data(self, value: Any) -> bool:
        return isinstance(value, Tok) and value.id in self.data

    def value(self, tok: Any, layouts: tuple[str, ...] = (CF,)) -> Val:
        val = self.data[tok.id]
        if val.layout not in layouts:
            if val.layout == PAD:
                raise Unknown("F.pad before it; convcost takes padding only as a conv's or a pool's own")
            raise Unknown(f"it reads a tensor in a {_LAYOUT_WORDS[val.layout]}; convcost follows such a tensor only "
                          "through per-position ops and back")  # fmt: skip
        return val

    def logical(self, val: Val) -> Shape:
        return self.out[val.index].shape

    def sources(self, value: Any) -> frozenset[int]:
        if not isinstance(value, Tok):
            return frozenset()
        if value.id in self.rec.params:
            return frozenset((value.id,))
        return self.consts.get(value.id, frozenset())

    def params(self, call: Call) -> int:
        found: frozenset[int] = frozenset().union(*(self.sources(t) for t in _tensors(call)))
        return sum(self.rec.params[p][1] for p in found)

    # -- what handlers do ----------------------------------------------------------------
    def emit(self, call: Call, entries: list[Entry], inputs: tuple[int, ...], shape: Shape, *, role: str = LAYER,
             layout: str = CF, out: int = 0, params: int | None = None) -> None:  # fmt: skip
        self.out.append(Op("", f"aten.{call.op}", role, inputs, tuple(shape), entries, self.params(call) if params is None else params))
        self.where.append(call.module)
        self.data[call.outs[out].id] = Val(len(self.out) - 1, layout)

    def alias(self, call: Call, val: Val, out: int = 0) -> None:
        self.data[call.outs[out].id] = val

    # -- the walk ------------------------------------------------------------------------
    def ops(self) -> list[Op]:
        for call in self.rec.calls:
            tensors = _tensors(call)
            if not any(t.id in self.data for t in tensors):
                made = frozenset().union(*(self.sources(t) for t in tensors))
                for tok in call.outs:
                    self.consts[tok.id] = made
                continue
            handler = TABLE.get(call.op)
            try:
                if handler is None:
                    raise Unknown(f"ATen op aten.{call.op} has no entry in convcost's op table")
                if call.partial:
                    raise Unknown("an in-place update of part of another tensor (a slice or a view of it)")
                handler(self, call)
            except Unknown as why:
                self.unknown(call, str(why))
        self.finish()
        self.name()
        return self.out

    def finish(self) -> None:
        outs = self.rec.outputs
        if not outs:
            raise ConvcostError("the model returns no tensor")
        vals = []
        for tok in outs:
            if tok.id not in self.data:
                raise ConvcostError("the model returns a tensor that does not depend on its input")
            val = self.data[tok.id]
            if val.layout != CF:
                raise ConvcostError(f"the model returns a tensor in a {_LAYOUT_WORDS[val.layout]}; convcost's outputs are "
                                    "channels first")  # fmt: skip
            vals.append(val.index)
        role = LAYER if len(vals) == 1 else OUTPUTS
        self.out.append(Op("output", "output", role, tuple(vals), self.out[vals[0]].shape))
        self.where.append(-1)

    def unknown(self, call: Call, why: str) -> None:
        data = [t for t in _tensors(call) if t.id in self.data]
        name = self.call_name(call, "")
        if not self.allow_unknown:
            raise ConvcostError(f"aten.{call.op} '{name}' has no convcost kind: {why}; "
                                "--allow-unknown writes it as an unknown layer")  # fmt: skip
        if len({self.data[t.id].index for t in data}) != 1:
            raise ConvcostError(f"aten.{call.op} '{name}' has no convcost kind: {why} "
                                f"(it reads {len(data)} tensors; an unknown layer reads one)")  # fmt: skip
        source = self.data[data[0].id]
        rank = len(self.out[source.index].shape)
        if any(len(self.shape(tok)) != rank + 1 for tok in call.outs):
            raise ConvcostError(f"aten.{call.op} '{name}' has no convcost kind: {why} (its output has another number of axes "
                                "than its input; an unknown layer keeps them)")  # fmt: skip
        params = self.params(call)
        for k, tok in enumerate(call.outs):
            shape = self.shape(tok)[1:]
            args: dict[str, Any] = {"op": f"aten.{call.op}", "shape": list(shape)}
            if k == 0 and call.flops:
                args["torch_macs"] = call.flops // 2
            if k == 0 and params:
                args["torch_params"] = params
            self.emit(call, [{UnknownKind.kind: args}], (source.index,), shape, out=k, params=params if k == 0 else 0)

    def call_name(self, call: Call, suffix: str) -> str:
        """``module.path.suffix``, or the module's path where the op is all the module does."""
        path = self.rec.modules[call.module].path if call.module >= 0 else ""
        return f"{path}.{suffix or call.op}" if path else suffix or call.op

    def name(self) -> None:
        """Names as a person reads them: a leaf module's only op, or the only op of a module that
        reads parameters (the bn of timm's BatchNormAct2d), by the module's path; others
        ``module.path.kind`` (``layer1.0.add``)."""
        direct: dict[int, list[Op]] = {}
        for op, call in zip(self.out, self.where):
            if not op.name:
                direct.setdefault(call, []).append(op)
        for call, ops in direct.items():
            module = self.rec.modules[call] if call >= 0 else None
            weighted = [op for op in ops if op.params]
            doing = [op for op in ops if op.layers or op.role != LAYER]  # not a reshape passed through
            for op in ops:
                unknown = bool(op.layers) and next(iter(op.layers[0])) == UnknownKind.kind
                suffix = next(iter(op.layers[0])) if op.layers and not unknown else op.source.removeprefix("aten.")
                if module is not None and module.path and (module.leaf and doing == [op] or weighted == [op]):
                    op.name = module.path
                else:
                    op.name = f"{module.path}.{suffix}" if module is not None and module.path else suffix
                op.layers = named(op.layers, op.name)


_LAYOUT_WORDS = {CL: "channels-last layout (after a permute)", ROWS: "channels-last layout (positions in rows)",
                 H1: "1-D layout with an inserted axis", GROUPS: "layout of channel groups", SHUFFLED: "layout of channel groups",
                 PAD: "padded layout"}  # fmt: skip


def _tensors(call: Call) -> list[Tok]:
    flat, _ = tree_flatten((call.args, call.kwargs))
    return [t for t in flat if isinstance(t, Tok)]


def _arg(call: Call, i: int, name: str, default: Any = None) -> Any:
    return call.args[i] if len(call.args) > i else call.kwargs.get(name, default)


def _first_data(t: Translator, call: Call) -> Tok:
    return next(tok for tok in _tensors(call) if tok.id in t.data)


# -- convolution and linear ----------------------------------------------------------------
def convolution(t: Translator, c: Call) -> None:
    x, w, b = c.args[0], c.args[1], _arg(c, 2, "bias")
    stride, padding, dilation, transposed, output_padding, groups = c.args[3:9]
    if t.is_data(w) or t.is_data(b):
        raise Unknown("a convolution whose weight is computed from the input")
    val = t.value(x, (CF, PAD))
    pads = val.extra if val.layout == PAD else None
    in_shape = t.logical(val)
    wshape = t.shape(w)
    out = t.shape(c.outs[0])[1:]
    pad: Any = tuple(padding)
    if pads is not None:
        if transposed:
            raise Unknown("F.pad before a transposed convolution")
        pad = tuple((p + lo, p + hi) for p, (lo, hi) in zip(padding, pads))
    entries = [conv_entry(in_shape[0], out[0], tuple(wshape[2:]), tuple(stride), pad, tuple(dilation), groups, b is not None,
                          tuple(output_padding) if transposed else None)]  # fmt: skip
    params = t.params(c)
    own = prod(wshape) + (prod(t.shape(b)) if b is not None else 0)
    if params == own + out[0]:  # a gain per output channel, multiplied into a standardised weight (NFNet)
        entries.append({LayerScale.kind: None})
    t.emit(c, entries, (val.index,), out, params=params)


def addmm(t: Translator, c: Call) -> None:
    bias, x, w = c.args[:3]
    _linear(t, c, x, w, bias)


def mm(t: Translator, c: Call) -> None:
    _linear(t, c, c.args[0], c.args[1], None)


def linear(t: Translator, c: Call) -> None:
    _linear(t, c, c.args[0], c.args[1], _arg(c, 2, "bias"), transposed=True)


def _linear(t: Translator, c: Call, x: Any, w: Any, bias: Any, transposed: bool = False) -> None:
    if not t.is_data(x) or t.is_data(w) or t.is_data(bias):
        raise Unknown("a product of two tensors computed from the input (attention); convcost's linear has learned weights")
    val = t.value(x, (CF, ROWS))
    out = t.shape(w)[0 if transposed else -1]
    if val.layout == ROWS:
        t.emit(c, [{PWConv.kind: {"out": out, "bias": bias is not None}}], (val.index,), (out, *t.logical(val)[1:]), layout=ROWS)
        return
    if len(t.logical(val)) != 1:
        raise Unknown(f"a matrix product on a {list(t.logical(val))} tensor; convcost's linear takes a flat vector")
    t.emit(c, [{Linear.kind: {"out": out, "bias": bias is not None}}], (val.index,), (out,))


# -- norms -----------------------------------------------------------------------------------
def batch_norm(t: Translator, c: Call) -> None:
    if c.args[1] is None or c.args[2] is None:
        raise Unknown("batch norm without affine parameters (affine=False)")
    val = t.value(c.args[0])
    t.emit(c, [{BatchNorm.kind: None}], (val.index,), t.logical(val))


def group_norm(t: Translator, c: Call) -> None:
    if c.args[1] is None or c.args[2] is None:
        raise Unknown("group norm without affine parameters (affine=False)")
    val = t.value(c.args[0])
    t.emit(c, [{GroupNorm.kind: {"groups": c.args[6]}}], (val.index,), t.logical(val))


def layer_norm(t: Translator, c: Call) -> None:
    x, normalized, weight, bias = c.args[:4]
    val = t.value(x, PER_POSITION)
    shape = t.logical(val)
    over_channels = tuple(normalized) == shape[:1] and (val.layout != CF or len(shape) == 1)
    if not over_channels or weight is None or bias is None:
        raise Unknown(f"layer norm over {list(normalized)} of a {list(shape)} tensor; convcost's layernorm is over the "
                      "channels, with weight and bias")  # fmt: skip
    t.emit(c, [{LayerNorm.kind: None}], (val.index,), shape, layout=val.layout)


# -- activations -----------------------------------------------------------------------------
def activation(kind: str) -> Callable[[Translator, Call], None]:
    def handle(t: Translator, c: Call) -> None:
        _act(t, c, kind)

    return handle


def _act(t: Translator, c: Call, kind: str) -> None:
    val = t.value(c.args[0], PER_POSITION)
    t.emit(c, [{kind: None}], (val.index,), t.logical(val), layout=val.layout)


def hardtanh(t: Translator, c: Call) -> None:
    bounds = (_arg(c, 1, "min_val", -1.0), _arg(c, 2, "max_val", 1.0))
    if bounds != (0.0, 6.0):
        raise Unknown(f"hardtanh({bounds[0]}, {bounds[1]}); only hardtanh(0, 6) is relu6")
    _act(t, c, RELU6)


def clamp(t: Translator, c: Call) -> None:
    bounds = (_arg(c, 1, "min"), _arg(c, 2, "max"))
    if bounds == (0, 6):
        return _act(t, c, RELU6)
    if bounds == (0, None):
        return _act(t, c, RELU)
    raise Unknown(f"clamp({bounds[0]}, {bounds[1]}); only clamp(0, 6) is relu6 and clamp(0) relu")


def clamp_min(t: Translator, c: Call) -> None:
    if c.args[1] != 0:
        raise Unknown(f"clamp_min({c.args[1]}); only clamp_min(0) is relu")
    _act(t, c, RELU)


def prelu(t: Translator, c: Call) -> None:
    val = t.value(c.args[0])
    slopes = prod(t.shape(c.args[1]))
    t.emit(c, [{PReLU.kind: {"per_channel": True} if slopes > 1 else None}], (val.index,), t.logical(val))


def softmax(t: Translator, c: Call) -> None:
    val = t.value(c.args[0])
    shape, dim = t.logical(val), c.args[1]
    if dim % (len(shape) + 1) != 1:
        raise Unknown(f"softmax over dim={dim}; convcost's softmax is over the channels")
    _act(t, c, SOFTMAX)


# -- two tensors -----------------------------------------------------------------------------
def add(t: Translator, c: Call) -> None:
    a, b = c.args[:2]
    if _neutral(t, a, b, 0):
        return t.alias(c, t.data[(a if t.is_data(a) else b).id])
    if not (t.is_data(a) and t.is_data(b)):
        if _bias(t, c, a if t.is_data(a) else b, b if t.is_data(a) else a):
            return
        raise Unknown("adding a constant to a tensor; convcost adds tensors of the model")
    if _arg(c, 2, "alpha", 1) != 1:
        raise Unknown("an addition with alpha")
    x, y = t.value(a, PER_POSITION), t.value(b, PER_POSITION)
    if x.layout != y.layout or t.logical(x) != t.logical(y):
        raise Unknown(f"adding tensors of shapes {list(t.logical(x))} and {list(t.logical(y))}")
    t.emit(c, [], (x.index, y.index), t.logical(x), role=ADD, layout=x.layout)


def _bias(t: Translator, c: Call, data: Tok, const: Any) -> bool:
    """``mm(x, w) + b``, as ``nn.Linear`` runs on more than two axes: the bias of that product."""
    val = t.data[data.id]
    op = t.out[val.index]
    channels = op.shape[0]
    if not isinstance(const, Tok) or prod(t.shape(const)) != channels or t.params(c) != channels or len(op.layers) != 1:
        return False
    ((kind, args),) = op.layers[0].items()
    if (
        kind not in (PWConv.kind, Linear.kind)
        or args.get("bias") is not False
        or any(val.index in o.inputs for o in t.out[val.index + 1 :])
    ):
        return False
    args["bias"] = True
    op.params = (op.params or 0) + channels
    t.alias(c, val)
    return True


def _neutral(t: Translator, a: Any, b: Any, unit: int) -> bool:
    """``x + 0`` or ``x * 1`` (a sum started at 0, as MobileOne's branches): x itself."""
    other = b if t.is_data(a) else a
    return _is_number(other) and other == unit


def mul(t: Translator, c: Call) -> None:
    a, b = c.args[:2]
    if _neutral(t, a, b, 1):
        return t.alias(c, t.data[(a if t.is_data(a) else b).id])
    if t.is_data(a) and t.is_data(b):
        return _two(t, c, MUL)
    data, const = (a, b) if t.is_data(a) else (b, a)
    val = t.value(data, PER_POSITION)
    channels = t.logical(val)[0]
    if isinstance(const, Tok) and prod(t.shape(const)) == channels and t.params(c) == channels:
        t.emit(c, [{LayerScale.kind: None}], (val.index,), t.logical(val), layout=val.layout)
        return
    _scale(t, c, val, const, False)


def _scale(t: Translator, c: Call, val: Val, factor: Any, divide: bool) -> None:
    """x · n or x / n by a number, or by one learned number: ``scale``."""
    if _is_number(factor) and (factor or not divide):
        t.emit(c, [{Scale.kind: {"by": 1 / factor if divide else float(factor)}}], (val.index,), t.logical(val), layout=val.layout)
        return
    if isinstance(factor, Tok) and prod(t.shape(factor)) == 1 and t.params(c) == 1 and not divide:
        t.emit(c, [{Scale.kind: {"learned": True}}], (val.index,), t.logical(val), layout=val.layout)
        return
    raise Unknown("multiplying a tensor by a constant tensor; convcost multiplies by a number (scale), by a learned number "
                  "or by a learned scale per channel (layerscale)")  # fmt: skip


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _two(t: Translator, c: Call, role: str) -> None:
    """An elementwise op of two tensors of the model, broadcasting as torch does (same rank)."""
    x, y = t.value(c.args[0], PER_POSITION), t.value(c.args[1], PER_POSITION)
    if x.layout != y.layout or len(t.logical(x)) != len(t.logical(y)):
        raise Unknown(f"an elementwise {role} of tensors of shapes {list(t.logical(x))} and {list(t.logical(y))}")
    out = tuple(max(p, q) for p, q in zip(t.logical(x), t.logical(y)))
    t.emit(c, [], (x.index, y.index), out, role=role, layout=x.layout)


def sub(t: Translator, c: Call) -> None:
    if not (t.is_data(c.args[0]) and t.is_data(c.args[1])):
        raise Unknown("subtracting a constant; convcost subtracts tensors of the model")
    if _arg(c, 2, "alpha", 1) != 1:
        raise Unknown("a subtraction with alpha")
    _two(t, c, SUB)


def div(t: Translator, c: Call) -> None:
    if _arg(c, 2, "rounding_mode") is not None:
        raise Unknown("a division with rounding")
    if t.is_data(c.args[0]) and not t.is_data(c.args[1]):
        return _scale(t, c, t.value(c.args[0], PER_POSITION), c.args[1], True)
    if not (t.is_data(c.args[0]) and t.is_data(c.args[1])):
        raise Unknown("a number divided by a tensor")
    _two(t, c, DIV)


def cat(t: Translator, c: Call) -> None:
    parts, dim = c.args[0], _arg(c, 1, "dim", 0)
    if not all(t.is_data(p) for p in parts):
        raise Unknown("concatenating a constant (a learned token or embedding) to a tensor")
    vals = [t.value(p, (CF, CL)) for p in parts]
    rank = len(t.shape(parts[0]))
    channels = rank - 1 if vals[0].layout == CL else 1
    if len({v.layout for v in vals}) != 1 or dim % rank != channels:
        raise Unknown(f"concatenation along dim={dim}; convcost concatenates channels")
    shape = t.logical(vals[0])
    t.emit(c, [], tuple(v.index for v in vals), (sum(t.logical(v)[0] for v in vals), *shape[1:]), role=CAT, layout=vals[0].layout)


# -- pooling and resizing --------------------------------------------------------------------
def _window(t: Translator, c: Call) -> tuple[Val, Shape, int, tuple[tuple[int, int], ...] | None]:
    """The pooled value, its output (logical), its spatial axes and a pending F.pad."""
    val = t.value(c.args[0], (CF, H1, PAD))
    out = t.shape(c.outs[0])[1:]
    if val.layout == H1:
        out = (out[0], *out[2:])
    return val, out, len(t.logical(val)) - 1, val.extra if val.layout == PAD else None


def _axes(values: Any, nd: int, h1: bool) -> list[Any]:
    """A pooling argument per spatial axis (ATen's ``int[2]`` may hold one value for all); the
    inserted unit axis of ``h1`` dropped."""
    values = list(values) if isinstance(values, (list, tuple)) else [values]
    if len(values) == 1:
        values *= nd + h1
    return values[1:] if h1 and values else values


def max_pool(t: Translator, c: Call) -> None:
    val, out, nd, pads = _window(t, c)
    h1 = val.layout == H1
    kernel = _axes(c.args[1], nd, h1)
    stride = _axes(_arg(c, 2, "stride", []), nd, h1) or kernel
    padding = _axes(_arg(c, 3, "padding", 0), nd, h1)
    dilation = _axes(_arg(c, 4, "dilation", 1), nd, h1)
    if pads is not None:
        padding = [(p + lo, p + hi) for p, (lo, hi) in zip(padding, pads)]
    entry = pool_entry(True, kernel, stride, padding, dilation, bool(_arg(c, 5, "ceil_mode", False)), nd)
    t.emit(c, [entry], (val.index,), out, layout=H1 if h1 else CF)


def avg_pool(t: Translator, c: Call) -> None:
    val, out, nd, pads = _window(t, c)
    h1 = val.layout == H1
    kernel = _axes(c.args[1], nd, h1)
    stride = _axes(_arg(c, 2, "stride", []), nd, h1) or kernel
    padding = _axes(_arg(c, 3, "padding", 0), nd, h1)
    if pads is not None:
        padding = [(p + lo, p + hi) for p, (lo, hi) in zip(padding, pads)]
    if _arg(c, 6, "divisor_override") is not None:
        raise Unknown("average pooling with divisor_override")
    entry = pool_entry(False, kernel, stride, padding, 1, bool(_arg(c, 4, "ceil_mode", False)), nd)
    t.emit(c, [entry], (val.index,), out, layout=H1 if h1 else CF)


def adaptive_pool(maximum: bool) -> Callable[[Translator, Call], None]:
    def handle(t: Translator, c: Call) -> None:
        val, out, _, pads = _window(t, c)
        if pads is not None:
            raise Unknown("F.pad before an adaptive pooling")
        t.emit(c, adaptive(maximum, out, t.logical(val)), (val.index,), out, layout=val.layout)

    return handle


def upsample(t: Translator, c: Call) -> None:
    val = t.value(c.args[0])
    out = t.shape(c.outs[0])[1:]
    mode = "nearest" if "nearest" in c.op else "linear"  # the table holds nearest and (bi/tri)linear only
    t.emit(c, [upsample_entry(mode, t.logical(val), out)], (val.index,), out)


def mean(t: Translator, c: Call) -> None:
    val = t.value(c.args[0], (CF, CL, H1))
    rank = len(t.shape(c.args[0]))
    dims = _arg(c, 1, "dim")
    found = set(range(rank)) if dims is None else {d % rank for d in dims}
    keep = bool(_arg(c, 2, "keepdim", False))
    spatial = {CF: set(range(2, rank)), H1: set(range(2, rank)), CL: set(range(1, rank - 1))}[val.layout]
    if found != spatial or not spatial:
        raise Unknown(f"a mean over axes {dims} of a {list(t.shape(c.args[0])[1:])} tensor; only the mean over all spatial "
                      "axes is gap")  # fmt: skip
    shape = t.logical(val)
    pooled = (shape[0], *(1 for _ in shape[1:]))
    if keep:
        t.emit(c, [{GAP.kind: None}], (val.index,), pooled, layout=val.layout)
    else:
        t.emit(c, [{GAP.kind: None}, {Flatten.kind: None}], (val.index,), (shape[0],))


# -- views and layouts -----------------------------------------------------------------------
def view(t: Translator, c: Call) -> None:
    """view, reshape, squeeze, unsqueeze, clone, expand …: a change of layout, a ``flatten``, the
    end of a channel shuffle, or a reshape that only an SE gate may hold."""
    source = _first_data(t, c)
    val = t.data[source.id]
    before, after = t.shape(source), t.shape(c.outs[0])
    shape = t.logical(val)
    if after == before:
        return t.alias(c, val)
    spatial = shape[1:]
    if val.layout == CF:
        if c.op == "unsqueeze" and c.args[1] % 4 == 2 and len(shape) == 2 and after == (1, shape[0], 1, shape[1]):  # 1-D pooling
            return t.alias(c, Val(val.index, H1))
        if (
            spatial
            and len(after) == len(shape) + 2
            and after[0] == 1
            and min(after[1:3]) > 1
            and after[1] * after[2] == shape[0]
            and after[3:] == spatial
        ):
            return t.alias(c, Val(val.index, GROUPS, after[1]))
        if after[0] == 1:
            entries = reshape_entries(shape, after[1:])
            if entries or _unit_axes(shape, after[1:]):  # a flatten, or [C, 1, 1] ↔ [C] (held by an SE gate)
                return t.emit(c, entries, (val.index,), after[1:])
    if val.layout == H1 and after == (1, *shape):
        return t.alias(c, Val(val.index))
    if val.layout in (CL, ROWS):
        if after == (prod(spatial), shape[0]):
            return t.alias(c, Val(val.index, ROWS))
        if after == (1, *spatial, shape[0]):
            return t.alias(c, Val(val.index, CL))
    if val.layout == SHUFFLED and after == (1, *shape):
        return t.emit(c, [{Shuffle.kind: {"groups": val.extra}}], (val.index,), shape)
    raise Unknown(f"a reshape from {list(before)} to {list(after)} (batch first); convcost reshapes only by flatten")


def _unit_axes(a: Shape, b: Shape) -> bool:
    """The two shapes differ only in axes of size 1."""
    return [n for n in a if n != 1] == [n for n in b if n != 1]


def permute(t: Translator, c: Call) -> None:
    val = t.value(c.args[0], (CF, CL))
    rank = len(t.shape(c.args[0]))
    dims = tuple(d % rank for d in c.args[1])
    if val.layout == CF and dims == (0, *range(2, rank), 1):
        return t.alias(c, Val(val.index, CL))
    if val.layout == CL and dims == (0, rank - 1, *range(1, rank - 1)):
        return t.alias(c, Val(val.index, CF))
    raise Unknown(f"permute{dims}; convcost follows only a move of the channels to the end and back")


def transpose(t: Translator, c: Call) -> None:
    source = c.args[0]
    val = t.value(source, (CF, CL, GROUPS))
    rank = len(t.shape(source))
    dims = sorted(d % rank for d in c.args[1:3])
    if dims == [1, 2] and val.layout == GROUPS:
        return t.alias(c, Val(val.index, SHUFFLED, val.extra))
    if dims == [1, 2] and rank == 3:
        return t.alias(c, Val(val.index, CL if val.layout == CF else CF))
    raise Unknown(f"transpose{tuple(dims)}; convcost follows only a channel shuffle and a move of the channels to the end")


def constant_pad(t: Translator, c: Call) -> None:
    val = t.value(c.args[0])
    flat, nd = list(c.args[1]), len(t.logical(val)) - 1
    if len(flat) > 2 * nd or any(p < 0 for p in flat):
        raise Unknown("F.pad of more than the spatial axes, or cropping")
    flat += [0] * (2 * nd - len(flat))
    pairs = tuple((flat[2 * i], flat[2 * i + 1]) for i in reversed(range(nd)))
    t.alias(c, Val(val.index, PAD, pairs))


def split(t: Translator, c: Call) -> None:
    source, dim = c.args[0], _arg(c, 2, "dim", 0)
    val = t.value(source)
    channels = t.logical(val)[0]
    sizes = [t.shape(o)[1] for o in c.outs]
    if dim % len(t.shape(source)) != 1:
        raise Unknown(f"a split along dim={dim}; convcost splits the channels (dim=1)")
    for k, tok in enumerate(c.outs):
        t.emit(c, [channel_part(sum(sizes[:k]), sum(sizes[: k + 1]), channels)], (val.index,), t.shape(tok)[1:], out=k)


def slice_(t: Translator, c: Call) -> None:
    source = c.args[0]
    dim, start, end, step = _arg(c, 1, "dim", 0), _arg(c, 2, "start"), _arg(c, 3, "end"), _arg(c, 4, "step", 1)
    full = t.shape(source)[dim]
    if step == 1 and (start or 0) <= 0 and (end is None or end >= full):
        return t.alias(c, t.data[source.id])  # x[:, :]: all of it
    val = t.value(source)
    channels = t.logical(val)[0]
    start, end = max(0, min(start or 0, channels)), max(0, min(channels if end is None else end, channels))
    if dim % len(t.shape(source)) != 1 or step != 1 or end <= start:
        raise Unknown(f"a slice [{start}:{end}:{step}] along dim={dim}; convcost slices the channels (dim=1), step 1")
    t.emit(c, [channel_part(start, end, channels)], (val.index,), t.shape(c.outs[0])[1:])


Handler = Callable[[Translator, Call], None]

#: ATen op (its name without the overload and a trailing ``_``) → what it becomes. Ops of
#: constants only (a weight's transpose, a standardised weight) never reach the table.
TABLE: dict[str, Handler] = {
    "convolution": convolution, "_convolution": convolution, "addmm": addmm, "mm": mm, "linear": linear,
    "native_batch_norm": batch_norm, "_native_batch_norm_legit_no_training": batch_norm, "_native_batch_norm_legit": batch_norm,
    "native_group_norm": group_norm, "native_layer_norm": layer_norm,
    **{op: activation(kind) for kind, (op, _) in ACTIVATION_OPS.items()}, "hardtanh": hardtanh, "clamp": clamp, "clamp_min": clamp_min,
    "_prelu_kernel": prelu, "prelu": prelu, "_softmax": softmax, "softmax": softmax,
    "add": add, "mul": mul, "sub": sub, "div": div, "cat": cat,
    "max_pool1d_with_indices": max_pool, "max_pool2d_with_indices": max_pool, "max_pool3d_with_indices": max_pool,
    "max_pool1d": max_pool, "max_pool2d": max_pool, "max_pool3d": max_pool,
    "avg_pool1d": avg_pool, "avg_pool2d": avg_pool, "avg_pool3d": avg_pool,
    "_adaptive_avg_pool2d": adaptive_pool(False), "_adaptive_avg_pool3d": adaptive_pool(False),
    "adaptive_avg_pool2d": adaptive_pool(False), "adaptive_avg_pool3d": adaptive_pool(False),
    "adaptive_max_pool2d": adaptive_pool(True), "adaptive_max_pool3d": adaptive_pool(True), "mean": mean,
    "upsample_nearest1d": upsample, "upsample_nearest2d": upsample, "upsample_nearest3d": upsample,
    "_upsample_nearest_exact1d": upsample, "_upsample_nearest_exact2d": upsample, "_upsample_nearest_exact3d": upsample,
    "upsample_linear1d": upsample, "upsample_bilinear2d": upsample, "upsample_trilinear3d": upsample,
    "view": view, "_unsafe_view": view, "reshape": view, "squeeze": view, "unsqueeze": view, "flatten": view,
    "clone": view, "alias": view, "detach": view, "contiguous": view, "expand": view, "_to_copy": view,
    "as_strided": view, "_reshape_alias": view,
    "permute": permute, "transpose": transpose, "constant_pad_nd": constant_pad,
    "split": split, "split_with_sizes": split, "slice": slice_,
}  # fmt: skip


class Ops(list[Op]):
    """A reader's ops, with what the user should know about the import (``notes``)."""

    notes: list[str]


def read(model: nn.Module, input_shape: Shape, *, allow_unknown: bool = False) -> Ops:
    """The model's ops (op 0 its input, the last its output), as ``from_onnx.read`` gives them;
    ``notes`` name the parameters forward() never read and the ops written as unknown."""
    rec = run(model, input_shape)
    ops = Ops(Translator(rec, input_shape, allow_unknown).ops())
    ops.notes = []
    unread = unread_params(rec)
    if unread:
        total = sum(rec.params[t][1] for t in rec.params if rec.params[t][0] in unread)
        ops.notes.append(f"{total:,} parameters that forward() never reads are not counted: {', '.join(_groups(rec, unread))}")
    found = Counter(op.source for op in ops if any(UnknownKind.kind in e for e in op.layers))
    if found:
        ops.notes.append("ops with no convcost kind, written as unknown: " + ", ".join(f"{op} ×{n}" for op, n in found.most_common()))
    return ops


def unread_params(rec: Recording) -> set[str]:
    """The names of the parameters no op read (an auxiliary classifier eval mode skips)."""
    read: set[int] = set()
    for call in rec.calls:
        flat, _ = tree_flatten((call.args, call.kwargs))
        read.update(t.id for t in flat if isinstance(t, Tok))
    return {name for tok, (name, _) in rec.params.items() if tok not in read}


def _groups(rec: Recording, unread: set[str]) -> list[str]:
    """The unread parameters by the outermost modules all of whose parameters are unread."""
    names = [name for name, _ in rec.params.values()]
    groups: list[str] = []
    for name in sorted(unread):
        parts = name.split(".")
        for k in range(1, len(parts) + 1):
            prefix = ".".join(parts[:k])
            if all(n in unread for n in names if n == prefix or n.startswith(prefix + ".")):
                break
        if prefix not in groups:
            groups.append(prefix)
    return groups
