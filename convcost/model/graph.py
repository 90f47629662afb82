"""The Stack: the validated tree of layers as the file writes it, with every shape known.

Leaves hold one Kind value each; Residual and Concat hold lists of nodes. ``bind`` walks a tree
with its inputs' shapes, resolves what depends on them (``same`` padding), checks every fit and
records in/out shapes. Rewrites build new trees and bind them again. Every walker reads the
tree lowered into a Program (``model/program.py``): the tree is the syntax, the program the meaning.

A node reads the tensor before it in the tree's order unless its ``sources`` name others (a
``from:`` in the file): each source is the ``key`` of an earlier node (its path, unless a rewrite
replaced it by parts: then the last part carries the key), an input's name, or ``PREVIOUS``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import NamedTuple, Union

from ..errors import ConvcostError, Mark
from ..kinds import Kind, Shape


class Leaf(NamedTuple):
    path: str
    name: str
    op: Kind
    mark: Mark | None = None
    in_shape: Shape = ()
    out_shape: Shape = ()
    arg_marks: Mapping[str, Mark] | None = None
    sources: tuple[str, ...] = ()  #: the keys it reads (``from:``); () reads the tensor before
    key: str = ""  #: how other nodes' sources name its output ("" = its path)
    in_shapes: tuple[Shape, ...] = ()  #: every input's shape (a merge kind's several; else one)


PREVIOUS = ""  #: a source meaning the tensor before, in the tree's order (``from: -1``)
INPUT = "input"  #: the key of the model's input when the file has one ``input:``


def key_of(node: Node) -> str:
    """The key other nodes' sources name this node's output by."""
    return (node.key or node.path) if isinstance(node, Leaf) else node.path


class Residual(NamedTuple):
    """output = body(x) + shortcut(x); an empty shortcut is the identity."""

    path: str
    name: str
    body: tuple[Node, ...]
    shortcut: tuple[Node, ...] = ()
    mark: Mark | None = None
    in_shape: Shape = ()
    out_shape: Shape = ()
    sources: tuple[str, ...] = ()  #: the key it reads (``from:``); () reads the tensor before


class Concat(NamedTuple):
    """Branch outputs concatenated on channels; an empty branch is the identity."""

    path: str
    name: str
    branches: tuple[tuple[Node, ...], ...]
    mark: Mark | None = None
    in_shape: Shape = ()
    out_shape: Shape = ()
    sources: tuple[str, ...] = ()  #: the key it reads (``from:``); () reads the tensor before


Node = Union[Leaf, Residual, Concat]


OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")  #: whose state a training step's memory counts (analysis.training)
MEMORY_PLANS = ("unfused", "fused", "inplace")  #: how a runtime may reuse buffers (analysis.memory); the first is the default


class Budget(NamedTuple):
    """Limits for ``convcost check`` (None: not set); ``marks`` locate each in the YAML."""

    params: int | None = None
    macs: int | None = None
    flops: int | None = None
    peak_memory: int | None = None
    min_rf: int | None = None
    no_gridding: bool | None = None
    training_macs: int | None = None  #: MACs of one training step (forward + backward)
    training_memory: int | None = None  #: bytes of one training step: saved for backward, weights, gradients, optimizer state
    optimizer: str | None = None  #: whose state training_memory counts (not a limit)
    memory_plan: str | None = None  #: the plan peak_memory is measured under (MEMORY_PLANS; not a limit)
    marks: Mapping[str, Mark] = {}  # noqa: RUF012 (never mutated)

    @property
    def limits(self) -> dict[str, int | bool]:
        """The limits that are set, by name (``marks`` aside)."""
        return {k: v for k, v in self._asdict().items() if k not in ("marks", "memory_plan", "optimizer") and v is not None}


class Stack(NamedTuple):
    name: str
    input: Shape  #: the first input's shape
    layers: tuple[Node, ...]
    budget: Budget = Budget()
    source: str | None = None
    inputs: tuple[tuple[str, Shape], ...] = ()  #: (key, shape) of every input; () is one input, key INPUT
    outputs: tuple[str, ...] = ()  #: keys of the model's outputs; () is the last layer's
    names: Mapping[str, str] = {}  # noqa: RUF012 (never mutated) — key → a name to say in errors
    output_names: tuple[str, ...] = ()  #: the outputs as ``outputs:`` names them

    @property
    def all_inputs(self) -> tuple[tuple[str, Shape], ...]:
        return self.inputs or ((INPUT, self.input),)

    @property
    def output(self) -> Shape:
        """The first output's shape (per sample)."""
        if self.outputs:
            return shapes_by_key(self)[self.outputs[0]]
        return self.layers[-1].out_shape if self.layers else self.input

    @property
    def output_shapes(self) -> tuple[Shape, ...]:
        """Every output's shape, in the order of ``outputs:``."""
        if not self.outputs:
            return (self.output,)
        found = shapes_by_key(self)
        return tuple(found[k] for k in self.outputs)

    @property
    def ndim(self) -> int:
        return len(self.input) - 1


def channels_last(shape: Shape) -> str | None:
    """A warning when an input shape reads as channels last ([224, 224, 3]): its last axis is 1,
    3 or 4 while its first is at least 16 and more than 4 times as large (and its spatial sizes
    are not all equal: [64, 4, 4] is a square feature map)."""
    if (
        len(shape) < 2
        or shape[-1] not in (1, 3, 4)
        or shape[0] < 16
        or shape[0] <= 4 * shape[-1]
        or len(set(shape[1:])) == 1 < len(shape) - 1
    ):
        return None
    turned = [shape[-1], *shape[:-1]]
    return f"input {list(shape)} looks channels last; convcost reads channels first, [channels, then each spatial size]: did you mean {turned}?"


def bind(nodes: tuple[Node, ...] | list[Node], shape: Shape, inputs: tuple[tuple[str, Shape], ...] = (),
         names: Mapping[str, str] | None = None) -> tuple[tuple[Node, ...], Shape]:  # fmt: skip
    """Bind every node to its input shapes, in order; returns the bound nodes and the shape of the
    last. ``inputs``: (key, shape) of every model input (default: one, ``shape``); ``names``: key →
    name, for errors."""
    binder = _Binder(dict(inputs or ((INPUT, shape),)), names or {})
    bound, last = binder.many(nodes, inputs[0][0] if inputs else INPUT)
    return bound, binder.env[last]


class _Binder:
    def __init__(self, env: dict[str, Shape], names: Mapping[str, str]) -> None:
        self.env, self.names = env, names

    def many(self, nodes: tuple[Node, ...] | list[Node], current: str) -> tuple[tuple[Node, ...], str]:
        bound: list[Node] = []
        for node in nodes:
            node = self.node(node, current)
            bound.append(node)
            current = key_of(node)
        return tuple(bound), current

    def source(self, node: Node, key: str, current: str) -> str:
        if key == PREVIOUS:
            return current
        if key not in self.env:
            said = self.names.get(key, key)
            raise ConvcostError(f"from: '{said}' is not computed before this layer (a layer reads only layers above it, "
                                "outside itself: a forward reference or a cycle)", path=node.path,
                                mark=(node.arg_marks or {}).get("from", node.mark) if isinstance(node, Leaf) else node.mark)  # fmt: skip
        return key

    def node(self, node: Node, current: str) -> Node:
        keys = tuple(self.source(node, k, current) for k in node.sources) or (current,)
        node = bind_node(node, self.env[keys[0]], self, keys)
        self.env[key_of(node)] = node.out_shape
        return node


def bind_node(node: Node, shape: Shape, binder: _Binder, keys: tuple[str, ...]) -> Node:
    """``node`` bound to the tensors ``keys`` name (``shape``: the first one's)."""
    if isinstance(node, Leaf):
        shapes = tuple(binder.env[k] for k in keys)
        if node.in_shape == shape and node.in_shapes == shapes:  # already bound to these shapes (a rewrite keeps most layers)
            return node
        try:
            if node.op.MERGE:
                op = node.op.bind_many(shapes)  # type: ignore[attr-defined]  # MERGE kinds are kinds.merge.Merge
                out = op.merge_shape(shapes)
            elif len(shapes) != 1:
                raise ConvcostError(f"{node.op.kind} reads one tensor; from: names {len(shapes)} (add, mul, sub, div and concat read several)",
                                    path="from")  # fmt: skip
            else:
                op = node.op.bind(shape)
                out = op.out_shape(shape)
        except ConvcostError as exc:
            arg = exc.path
            mark = node.arg_marks.get(arg) if (node.arg_marks and arg) else None
            raise exc.located(f"{node.path}.{node.op.kind}", mark or node.mark) from None
        return node._replace(op=op, in_shape=shape, out_shape=out, in_shapes=shapes)
    if isinstance(node, Residual):
        body, body_out = binder.many(node.body, keys[0])
        shortcut, short_out = binder.many(node.shortcut, keys[0])
        body_shape, short_shape = binder.env[body_out], binder.env[short_out]
        if body_shape != short_shape:
            raise ConvcostError(f"residual body gives {list(body_shape)} but the shortcut gives {list(short_shape)}; "
                                "they must match to be added", path=node.path, mark=node.mark)  # fmt: skip
        if node.in_shape == shape and same_nodes(body, node.body) and same_nodes(shortcut, node.shortcut):
            return node
        return node._replace(body=body, shortcut=shortcut, in_shape=shape, out_shape=body_shape)
    branches, outs = [], []
    for branch in node.branches:
        bound_branch, out_key = binder.many(branch, keys[0])
        branches.append(bound_branch)
        outs.append(binder.env[out_key])
    for i, out in enumerate(outs):
        if out[1:] != outs[0][1:]:
            raise ConvcostError(f"concat branch {i} gives {list(out)} but branch 0 gives {list(outs[0])}; "
                                "spatial shapes must match", path=node.path, mark=node.mark)  # fmt: skip
    if node.in_shape == shape and all(map(same_nodes, branches, node.branches)):
        return node
    out_shape = (sum(o[0] for o in outs), *outs[0][1:])
    return node._replace(branches=tuple(branches), in_shape=shape, out_shape=out_shape)


def every_node(nodes: tuple[Node, ...]) -> Iterator[Node]:
    """Every node, leaves and composites, in execution order (a composite after its parts)."""
    for node in nodes:
        for inner in children(node):
            yield from every_node(inner)
        yield node


def shapes_by_key(stack: Stack) -> dict[str, Shape]:
    """Every tensor's shape by key: the inputs' and every bound node's."""
    return {**dict(stack.all_inputs), **{key_of(node): node.out_shape for node in every_node(stack.layers)}}


def same_nodes(new: tuple[Node, ...], old: tuple[Node, ...]) -> bool:
    """The very same node objects: a rewrite left them alone, or binding found them bound to this
    shape already. The block holding them is then kept as it is, and compare's analysis reuses
    what it found for it."""
    return len(new) == len(old) and all(a is b for a, b in zip(new, old))


def leaves(nodes: tuple[Node, ...]) -> Iterator[Leaf]:
    """Every leaf in execution order (branches in order)."""
    for node in nodes:
        if isinstance(node, Leaf):
            yield node
        elif isinstance(node, Residual):
            yield from leaves(node.body)
            yield from leaves(node.shortcut)
        else:
            for branch in node.branches:
                yield from leaves(branch)


def children(node: Node) -> tuple[tuple[Node, ...], ...]:
    """The node lists a composite holds (body, shortcut / branches)."""
    if isinstance(node, Residual):
        return (node.body, node.shortcut)
    if isinstance(node, Concat):
        return node.branches
    return ()
