"""Stack → Stack rewrites into cheaper designs (SPEC §3). Pure functions.

Each rewrite replaces eligible leaves, keeps every output shape (the new tree is bound again),
and says which conv-family layers it left alone and why. Replacement leaves are named
``<original path>/<part>`` so a comparison can line them up with the layer they replace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from .errors import ConvcostError, closest
from .graph import Concat, Leaf, Node, Residual, Stack, bind
from .kinds import Kind
from .kinds.channel import ChConv
from .kinds.conv import Conv, ConvLike, DWConv, PWConv
from .kinds.misc import Shuffle

REWRITES = ("separable", "grouped", "bottleneck", "factorize", "spatial", "channelwise")
DEFAULT = ("separable", "grouped:4", "bottleneck:4")
CLOSED_FORMS = {"separable": "1/out + 1/k²", "grouped": "1/G"}


class Rewritten(NamedTuple):
    name: str
    stack: Stack
    changed: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]  #: (path, why)


# A rule sees one leaf (and the kind of the last conv before it in the same list) and returns
# the replacement leaves, or a reason to leave it alone (None: not a layer this rule considers).
Rule = Callable[[Leaf, "str | None"], "list[Leaf] | str | None"]


def _part(leaf: Leaf, suffix: str, op: Kind) -> Leaf:
    return Leaf(f"{leaf.path}/{suffix}", f"{leaf.name}/{suffix}", op, leaf.mark)


def on_standard_convs(rule: Callable[[Leaf, Conv], list[Leaf] | str]) -> Rule:
    """Apply ``rule`` to standard convs (groups 1, kernel larger than 1×1); any other member of
    the conv family is left alone with the reason; other layers are not considered."""

    def wrapped(leaf: Leaf, previous: str | None) -> list[Leaf] | str | None:
        op = leaf.op
        if not isinstance(op, ConvLike):
            return None
        if not isinstance(op, Conv):
            return f"a {op.kind}, not a standard conv"
        if op.groups != 1:
            return f"already grouped (groups={op.groups})"
        if all(k == 1 for k in op.kernel):
            return "a 1×1 kernel"
        return rule(leaf, op)

    return wrapped


@on_standard_convs
def separable(leaf: Leaf, op: Conv) -> list[Leaf] | str:
    nd = op.ndim
    dw = DWConv(ndim=nd, kernel=op.kernel, stride=op.stride, padding=op.padding, dilation=op.dilation, multiplier=1, bias=False)
    return [_part(leaf, "dw", dw), _part(leaf, "pw", PWConv(ndim=nd, out=op.out, groups=1, bias=op.bias))]


def grouped(groups: int, shuffle: bool) -> Rule:
    def rule(leaf: Leaf, previous: str | None) -> list[Leaf] | str | None:
        op = leaf.op
        if not isinstance(op, (Conv, PWConv)):
            return None if not isinstance(op, ConvLike) else f"a {op.kind}, not a standard conv"
        if op.groups != 1:
            return f"already grouped (groups={op.groups})"
        c = leaf.in_shape[0]
        if c % groups or op.out % groups:
            return f"C_in={c} is not divisible by {groups}" if c % groups else f"out={op.out} is not divisible by {groups}"
        parts = [_part(leaf, f"g{groups}", op.replace(groups=groups))]
        if shuffle:
            parts.append(_part(leaf, "shuffle", Shuffle(ndim=op.ndim, groups=groups)))
        return parts

    return rule


def bottleneck(ratio: int) -> Rule:
    @on_standard_convs
    def rule(leaf: Leaf, op: Conv) -> list[Leaf] | str:
        if op.out % ratio or op.out // ratio < 1:
            return f"out={op.out} is not divisible by {ratio}"
        mid, nd = op.out // ratio, op.ndim
        return [_part(leaf, "reduce", PWConv(ndim=nd, out=mid, groups=1, bias=op.bias)),
                _part(leaf, "conv", op.replace(out=mid)),
                _part(leaf, "expand", PWConv(ndim=nd, out=op.out, groups=1, bias=op.bias))]  # fmt: skip

    return rule


@on_standard_convs
def factorize(leaf: Leaf, op: Conv) -> list[Leaf] | str:
    """k×k (odd, ≥ 5) → (k − 1)/2 stacked 3×3 convs with the same dilation and padding total.
    A stride goes on the *last* 3×3: that keeps the output shape and the receptive field exactly
    (on the first, the later 3×3s would each see s× further)."""
    k = op.kernel[0]
    if len(set(op.kernel)) != 1 or k < 5 or k % 2 == 0:
        return f"kernel {'×'.join(map(str, op.kernel))} is not an odd square kernel ≥ 5"
    m = (k - 1) // 2
    pads = [[[0, 0] for _ in op.kernel] for _ in range(m)]
    for axis, (lo, hi) in enumerate(op.padding):
        for side, total in enumerate((lo, hi)):
            d = op.dilation[axis]
            for i in range(m):
                take = min(d, total)
                pads[i][axis][side] += take
                total -= take
            pads[0][axis][side] += total
    parts = []
    for i in range(m):
        stride = op.stride if i == m - 1 else (1,) * op.ndim
        conv = op.replace(kernel=(3,) * op.ndim, stride=stride, padding=tuple(tuple(p) for p in pads[i]))
        parts.append(_part(leaf, f"3x3[{i}]", conv))
    return parts


@on_standard_convs
def spatial(leaf: Leaf, op: Conv) -> list[Leaf] | str:
    """k×k → k×1 (C_in → out) then 1×k (out → out); strides, paddings, dilations split by axis."""
    if op.ndim != 2:
        return f"needs 2 spatial axes, has {op.ndim}"
    if op.kernel[0] != op.kernel[1] or op.kernel[0] < 3:
        return f"kernel {op.kernel[0]}×{op.kernel[1]} is not a square kernel ≥ 3"
    k = op.kernel[0]
    tall = op.replace(kernel=(k, 1), stride=(op.stride[0], 1), padding=(op.padding[0], (0, 0)), dilation=(op.dilation[0], 1))
    wide = op.replace(kernel=(1, k), stride=(1, op.stride[1]), padding=((0, 0), op.padding[1]), dilation=(1, op.dilation[1]))
    return [_part(leaf, f"{k}x1", tall), _part(leaf, f"1x{k}", wide)]


def channelwise(kernel: int) -> Rule:
    def rule(leaf: Leaf, previous: str | None) -> list[Leaf] | str | None:
        op = leaf.op
        pointwise = isinstance(op, PWConv) or (isinstance(op, Conv) and all(k == 1 for k in op.kernel) and all(s == 1 for s in op.stride)
                                               and all(p == (0, 0) for p in op.padding))  # fmt: skip
        if not pointwise:
            return None
        if op.groups != 1:
            return f"a grouped pointwise conv (groups={op.groups})"
        if op.out != leaf.in_shape[0]:
            return f"changes the channel count ({leaf.in_shape[0]} → {op.out})"
        if previous != "dwconv":
            return "not right after a dwconv"
        return [_part(leaf, f"chconv{kernel}", ChConv(ndim=op.ndim, kernel=kernel, stride=1, padding="same"))]

    return rule


def parse(spec: str) -> tuple[str, Rule]:
    """'grouped:8+shuffle' → (its name, its rule); an unknown or malformed name is an input error."""
    name, _, arg = spec.strip().partition(":")
    if name not in REWRITES:
        raise ConvcostError(f"--rewrite: unknown rewrite '{spec}'; expected {', '.join(REWRITES)}{closest(name, REWRITES)}")
    if name in ("separable", "factorize", "spatial"):
        if arg:
            raise ConvcostError(f"--rewrite: '{name}' takes no argument, found '{spec}'")
        return name, {"separable": separable, "factorize": factorize, "spatial": spatial}[name]
    shuffle = name == "grouped" and arg.endswith("+shuffle")
    number = arg.removesuffix("+shuffle") if shuffle else arg
    default = {"channelwise": "64"}.get(name)
    number = number or default or ""
    if not number.isdigit() or int(number) < 1 or (name != "channelwise" and int(number) < 2):
        raise ConvcostError(f"--rewrite: expected {name}:N with an integer N ≥ {1 if name == 'channelwise' else 2}, found '{spec}'")
    value = int(number)
    rule = grouped(value, shuffle) if name == "grouped" else bottleneck(value) if name == "bottleneck" else channelwise(value)
    return f"{name}:{value}{'+shuffle' if shuffle else ''}", rule


def _map(nodes: tuple[Node, ...], rule: Rule, changed: list[str], skipped: list[tuple[str, str]]) -> list[Node]:
    out: list[Node] = []
    previous: str | None = None  # the last conv-family kind in this list (norms and activations are transparent)
    for node in nodes:
        if isinstance(node, Leaf):
            result = rule(node, previous)
            if isinstance(result, list):
                out.extend(result)
                changed.append(node.path)
            else:
                out.append(node)
                if isinstance(result, str):
                    skipped.append((node.path, result))
            if isinstance(node.op, ConvLike):
                previous = node.op.kind
            elif node.op.run_taps() != ():  # norms and activations are transparent
                previous = None
        elif isinstance(node, Residual):
            out.append(
                node._replace(
                    body=tuple(_map(node.body, rule, changed, skipped)), shortcut=tuple(_map(node.shortcut, rule, changed, skipped))
                )
            )
            previous = None
        else:
            assert isinstance(node, Concat)
            out.append(node._replace(branches=tuple(tuple(_map(b, rule, changed, skipped)) for b in node.branches)))
            previous = None
    return out


def rewrite(stack: Stack, spec: str) -> Rewritten:
    """Apply one rewrite ('separable', 'grouped:4', 'grouped:8+shuffle', 'bottleneck:4',
    'factorize', 'spatial', 'channelwise:64') to every eligible layer."""
    name, rule = parse(spec)
    changed: list[str] = []
    skipped: list[tuple[str, str]] = []
    nodes = _map(stack.layers, rule, changed, skipped)
    bound, _ = bind(nodes, stack.input)
    return Rewritten(name, stack._replace(name=f"{stack.name} [{name}]", layers=bound), tuple(changed), tuple(skipped))
