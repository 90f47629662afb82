"""Stack → Stack rewrites into cheaper designs (SPEC §3). Pure functions.

Each rewrite replaces eligible leaves, keeps every output shape (the new tree is bound again),
and says which conv-family layers it left alone and why. Replacement leaves are named
``<original path>/<part>`` so a comparison can line them up with the layer they replace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from ..errors import ConvcostError, closest
from ..kinds import Kind
from ..kinds.channel import ChConv, ConvCls, GChConv
from ..kinds.conv import Conv, ConvLike, DWConv, PWConv
from ..kinds.misc import Dropout, Flatten, Linear, Shuffle
from ..kinds.pool import GAP
from ..model.graph import Concat, Leaf, Node, Residual, Stack, bind, every_node, key_of, same_nodes

REWRITES = ("separable", "grouped", "bottleneck", "factorize", "spatial", "channelwise", "gcwc", "convcls")
DEFAULT = ("separable", "grouped:4", "bottleneck:4")


def closed_form(name: str) -> str | None:
    """The MAC ratio of a changed layer, in closed form: separable[:M] M/out + M/k², grouped:G 1/G."""
    base, _, arg = name.partition(":")
    if base == "separable":
        m = arg or "1"
        return "1/out + 1/k²" if m == "1" else f"{m}/out + {m}/k²"
    if base == "grouped":
        return "1/G"
    return None


class Rewritten(NamedTuple):
    name: str
    stack: Stack
    changed: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]  #: (path, why)


# A rule sees one leaf (and the kind of the last conv before it in the same list) and returns
# the replacement leaves, or a reason to leave it alone (None: not a layer this rule considers).
Rule = Callable[
    [Leaf, "Kind | None"], "list[Leaf] | str | None"
]  #: (a leaf, the conv-family layer just before it) → its parts, why not, or None


def _part(leaf: Leaf, suffix: str, op: Kind) -> Leaf:
    return Leaf(f"{leaf.path}/{suffix}", f"{leaf.name}/{suffix}", op, leaf.mark)


def _in_place(node: Leaf, parts: list[Leaf], first: Leaf | None = None) -> list[Leaf]:
    """The parts standing where ``node`` stood (and ``first`` before it): the first reads what it
    read, the last is what later layers' ``from:`` name."""
    parts[0] = parts[0]._replace(sources=(first or node).sources)
    parts[-1] = parts[-1]._replace(key=key_of(node))
    return parts


def on_standard_convs(rule: Callable[[Leaf, Conv], list[Leaf] | str]) -> Rule:
    """Apply ``rule`` to standard convs (groups 1, kernel larger than 1×1); any other member of
    the conv family is left alone with the reason; other layers are not considered."""

    def wrapped(leaf: Leaf, previous: Kind | None) -> list[Leaf] | str | None:
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


def separable(multiplier: int) -> Rule:
    """Depthwise (same window, depth multiplier M, no bias) then pointwise to ``out``."""

    @on_standard_convs
    def rule(leaf: Leaf, op: Conv) -> list[Leaf] | str:
        nd = op.ndim
        dw = DWConv(ndim=nd, kernel=op.kernel, stride=op.stride, padding=op.padding, dilation=op.dilation, multiplier=multiplier,
                    bias=False)  # fmt: skip
        return [_part(leaf, "dw", dw), _part(leaf, "pw", PWConv(ndim=nd, out=op.out, groups=1, bias=op.bias))]

    return rule


def grouped(groups: int, shuffle: bool) -> Rule:
    def rule(leaf: Leaf, previous: Kind | None) -> list[Leaf] | str | None:
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


def factorize(stride_first: bool) -> Rule:
    """k×k (odd, ≥ 5) → (k − 1)/2 stacked 3×3 convs with the same dilation. ``factorize`` puts a
    stride on the *last* 3×3: the output shape and the receptive field stay exactly, but the
    earlier 3×3s run at full resolution (a strided 5×5 costs 1.8× more). ``factorize:first``
    puts it on the first: cheaper, the same output shape, a larger receptive field (the later
    3×3s see s× further)."""

    @on_standard_convs
    def rule(leaf: Leaf, op: Conv) -> list[Leaf] | str:
        k = op.kernel[0]
        if len(set(op.kernel)) != 1 or k < 5 or k % 2 == 0:
            return f"kernel {'×'.join(map(str, op.kernel))} is not an odd square kernel ≥ 5"
        return (_stride_first if stride_first else _stride_last)(leaf, op, (k - 1) // 2)

    return rule


def _stride_first(leaf: Leaf, op: Conv, m: int) -> list[Leaf] | str:
    """The first 3×3 takes the stride and the padding less (k − 3)·d/2 a side (so the strided
    output has the original size); the others pad d a side (size kept)."""
    shrink = [(m - 1) * d for d in op.dilation]
    first = tuple((lo - s, hi - s) for (lo, hi), s in zip(op.padding, shrink))
    if any(p < 0 for pair in first for p in pair):
        return "its padding is too small to put the stride on the first 3×3"
    parts = [_part(leaf, "3x3[0]", op.replace(kernel=(3,) * op.ndim, padding=first))]
    same = tuple((d, d) for d in op.dilation)
    for i in range(1, m):
        parts.append(_part(leaf, f"3x3[{i}]", op.replace(kernel=(3,) * op.ndim, stride=(1,) * op.ndim, padding=same)))
    return parts


def _stride_last(leaf: Leaf, op: Conv, m: int) -> list[Leaf] | str:
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


def _channel_fusion(leaf: Leaf) -> str | None:
    """Why this pointwise conv is not a plain channel fusion C → C (None: it is one)."""
    op = leaf.op
    if op.groups != 1:  # type: ignore[attr-defined]  # _pointwise checked: a conv kind with groups and out
        return f"a grouped pointwise conv (groups={op.groups})"  # type: ignore[attr-defined]  # _pointwise checked: a conv kind with groups and out
    if op.out != leaf.in_shape[0]:  # type: ignore[attr-defined]  # _pointwise checked: a conv kind with groups and out
        return f"changes the channel count ({leaf.in_shape[0]} → {op.out})"  # type: ignore[attr-defined]  # _pointwise checked: a conv kind with groups and out
    return None


def _pointwise(op: Kind) -> bool:
    """A pwconv, or a conv that is one (1×1, stride 1, no padding)."""
    return isinstance(op, PWConv) or (isinstance(op, Conv) and all(k == 1 for k in op.kernel) and all(s == 1 for s in op.stride)
                                      and all(p == (0, 0) for p in op.padding))  # fmt: skip


def channelwise(kernel: int) -> Rule:
    """ChannelNets' depthwise separable channel-wise conv: the pointwise C → C after a dwconv
    becomes one channel-wise conv of ``kernel`` weights."""

    def rule(leaf: Leaf, previous: Kind | None) -> list[Leaf] | str | None:
        if not _pointwise(leaf.op):
            return None
        why = _channel_fusion(leaf)
        if why:
            return why
        if not isinstance(previous, DWConv):
            return "not right after a dwconv"
        return [_part(leaf, f"chconv{kernel}", ChConv(ndim=leaf.op.ndim, kernel=kernel, stride=1, padding="same"))]

    return rule


def gcwc(groups: int) -> Rule:
    """ChannelNets' group channel-wise module: a pointwise C → C becomes a grouped 1×1 conv (G
    groups) followed by a group channel-wise conv (G groups, d_c = 4G) that fuses the groups."""

    def rule(leaf: Leaf, previous: Kind | None) -> list[Leaf] | str | None:
        op = leaf.op
        if not _pointwise(op):
            return None
        why = _channel_fusion(leaf)
        if why:
            return why
        if leaf.in_shape[0] % groups:
            return f"C={leaf.in_shape[0]} is not divisible by {groups}"
        return [_part(leaf, f"g{groups}", op.replace(groups=groups)), _part(leaf, "gchconv", GChConv(ndim=op.ndim, groups=groups))]

    return rule


BETWEEN_POOL_AND_CLASSIFIER = (Dropout, Flatten)  #: dropped with the pool (no cost at inference)


def _classifier_at(nodes: list[Node], i: int) -> int | None:
    """Where the linear classifier after the gap at ``i`` is (only dropout/flatten between), or None."""
    j = i + 1
    while j < len(nodes) and isinstance(nodes[j], Leaf) and isinstance(nodes[j].op, BETWEEN_POOL_AND_CLASSIFIER):  # type: ignore[union-attr]  # isinstance(Leaf) checked just before
        j += 1
    is_linear = j < len(nodes) and isinstance(nodes[j], Leaf) and isinstance(nodes[j].op, Linear)  # type: ignore[union-attr]  # isinstance(Leaf) checked just before
    return j if is_linear else None


def _convcls(nodes: tuple[Node, ...], changed: list[str], skipped: list[tuple[str, str]], read: frozenset[str] = frozenset()) -> list[Node]:
    """ChannelNets' convolutional classification layer: gap (+ dropout/flatten) + linear C → n
    becomes one ``convcls`` of n classes, kernel (C − n + 1) × H × W. In every list, where the
    pattern is a plain chain: none of its layers but the first reads by ``from:``, none but the
    linear is read elsewhere (``read``: the keys other layers and the outputs name)."""
    out: list[Node] = []
    items, i = list(nodes), 0
    while i < len(items):
        node = items[i]
        j = _classifier_at(items, i) if isinstance(node, Leaf) and isinstance(node.op, GAP) else None
        chain = items[i : j + 1] if j is not None else []
        if chain and (any(n.sources for n in chain[1:]) or any(key_of(n) in read for n in chain[:-1])):
            skipped.append((chain[-1].path, "its pool and classifier are read apart (from: or outputs:)"))
            j = None
        if j is None:
            if isinstance(node, Residual):
                node = node._replace(
                    body=tuple(_convcls(node.body, changed, skipped, read)), shortcut=tuple(_convcls(node.shortcut, changed, skipped, read))
                )
            elif isinstance(node, Concat):
                node = node._replace(branches=tuple(tuple(_convcls(b, changed, skipped, read)) for b in node.branches))
            out.append(node)
            i += 1
            continue
        linear = items[j]
        assert isinstance(node, Leaf) and isinstance(linear, Leaf)
        classes, channels = linear.op.out, node.in_shape[0]  # type: ignore[attr-defined]  # _classifier_at found a Linear
        if classes > channels:
            skipped.append((linear.path, f"{classes} classes from {channels} channels: convcls needs n ≤ C"))
            out.extend(items[i : j + 1])
        else:
            out.extend(_in_place(linear, [_part(linear, "convcls", ConvCls(ndim=node.op.ndim, classes=classes))], node))
            changed.append(linear.path)
        i = j + 1
    return out


NUMBERED = {"grouped": (2, None), "bottleneck": (2, None), "channelwise": (1, "64"), "gcwc": (2, None), "separable": (1, "1")}
"""rewrite: (the smallest N of rewrite:N, the N when none is given)"""


def parse(spec: str) -> tuple[str, Rule | None]:
    """'grouped:8+shuffle' → (its name, its rule; None for convcls, a pattern over several
    layers); an unknown or malformed name is an input error."""
    name, _, arg = spec.strip().partition(":")
    if name not in REWRITES:
        raise ConvcostError(f"--rewrite: unknown rewrite '{spec}'; expected {', '.join(REWRITES)}{closest(name, REWRITES)}")
    if name == "factorize":
        if arg not in ("", "first"):
            raise ConvcostError(f"--rewrite: expected factorize or factorize:first, found '{spec}'")
        return spec.strip(), factorize(stride_first=arg == "first")
    if name in ("spatial", "convcls"):
        if arg:
            raise ConvcostError(f"--rewrite: '{name}' takes no argument, found '{spec}'")
        return name, spatial if name == "spatial" else None
    shuffle = name == "grouped" and arg.endswith("+shuffle")
    number = arg.removesuffix("+shuffle") if shuffle else arg
    low, default = NUMBERED[name]
    number = number or default or ""
    if not (number.isascii() and number.isdigit()) or len(number) > 6 or int(number) < low:
        raise ConvcostError(f"--rewrite: expected {name}:N with an integer N from {low} to 999999, found '{spec}'")
    value = int(number)
    if name == "separable":
        return ("separable" if value == 1 else f"separable:{value}"), separable(value)
    rules = {"grouped": lambda n: grouped(n, shuffle), "bottleneck": bottleneck, "channelwise": channelwise, "gcwc": gcwc}
    return f"{name}:{value}{'+shuffle' if shuffle else ''}", rules[name](value)


def _map(nodes: tuple[Node, ...], rule: Rule, changed: list[str], skipped: list[tuple[str, str]]) -> list[Node]:
    out: list[Node] = []
    previous: Kind | None = None  # the last conv-family layer in this list (norms and activations are transparent)
    for node in nodes:
        if isinstance(node, Leaf):
            result = rule(node, previous)
            if isinstance(result, list):
                out.extend(_in_place(node, result))
                changed.append(node.path)
            else:
                out.append(node)
                if isinstance(result, str) or node.op.NOT_REWRITTEN:
                    skipped.append((node.path, result or node.op.NOT_REWRITTEN))
            if isinstance(node.op, ConvLike):
                previous = node.op
            elif node.op.run_taps() != ():  # norms and activations are transparent
                previous = None
        elif isinstance(node, Residual):
            body, shortcut = tuple(_map(node.body, rule, changed, skipped)), tuple(_map(node.shortcut, rule, changed, skipped))
            out.append(
                node if same_nodes(body, node.body) and same_nodes(shortcut, node.shortcut) else node._replace(body=body, shortcut=shortcut)
            )
            previous = None
        else:
            assert isinstance(node, Concat)
            branches = tuple(tuple(_map(b, rule, changed, skipped)) for b in node.branches)
            out.append(node if all(map(same_nodes, branches, node.branches)) else node._replace(branches=branches))
            previous = None
    return out


def rewrite(stack: Stack, spec: str) -> Rewritten:
    """Apply one rewrite ('separable', 'separable:2', 'grouped:4', 'grouped:8+shuffle',
    'bottleneck:4', 'factorize', 'factorize:first', 'spatial', 'channelwise:64', 'gcwc:4',
    'convcls') to every eligible layer."""
    name, rule = parse(spec)
    changed: list[str] = []
    skipped: list[tuple[str, str]] = []
    read = frozenset(k for n in every_node(stack.layers) for k in n.sources) | frozenset(stack.outputs)
    nodes = _convcls(stack.layers, changed, skipped, read) if rule is None else _map(stack.layers, rule, changed, skipped)
    bound, _ = bind(nodes, stack.input, stack.inputs, stack.names)
    return Rewritten(name, stack._replace(name=f"{stack.name} [{name}]", layers=bound), tuple(changed), tuple(skipped))
