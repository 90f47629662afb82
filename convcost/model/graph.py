"""The Stack: a validated tree of layers with every shape known.

Leaves hold one Kind value each; Residual and Concat hold lists of nodes. ``bind`` walks a tree
with an input shape, resolves what depends on it (``same`` padding), checks every fit and
records in/out shapes. Rewrites build new trees and bind them again.
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


class Residual(NamedTuple):
    """output = body(x) + shortcut(x); an empty shortcut is the identity."""

    path: str
    name: str
    body: tuple[Node, ...]
    shortcut: tuple[Node, ...] = ()
    mark: Mark | None = None
    in_shape: Shape = ()
    out_shape: Shape = ()


class Concat(NamedTuple):
    """Branch outputs concatenated on channels; an empty branch is the identity."""

    path: str
    name: str
    branches: tuple[tuple[Node, ...], ...]
    mark: Mark | None = None
    in_shape: Shape = ()
    out_shape: Shape = ()


Node = Union[Leaf, Residual, Concat]


class Budget(NamedTuple):
    """Limits for ``convcost check`` (None: not set); ``marks`` locate each in the YAML."""

    params: int | None = None
    macs: int | None = None
    flops: int | None = None
    peak_memory: int | None = None
    min_rf: int | None = None
    no_gridding: bool | None = None
    marks: Mapping[str, Mark] = {}  # noqa: RUF012 (never mutated)

    @property
    def limits(self) -> dict[str, int | bool]:
        """The limits that are set, by name (``marks`` aside)."""
        return {k: v for k, v in self._asdict().items() if k != "marks" and v is not None}


class Stack(NamedTuple):
    name: str
    input: Shape
    layers: tuple[Node, ...]
    budget: Budget = Budget()
    source: str | None = None

    @property
    def output(self) -> Shape:
        return self.layers[-1].out_shape if self.layers else self.input

    @property
    def ndim(self) -> int:
        return len(self.input) - 1


def channels_last(shape: Shape) -> str | None:
    """A warning when an input shape reads as channels last ([224, 224, 3]): its last axis is 1,
    3 or 4 while its first is at least 16 and more than 4 times as large."""
    if len(shape) < 2 or shape[-1] not in (1, 3, 4) or shape[0] < 16 or shape[0] <= 4 * shape[-1]:
        return None
    turned = [shape[-1], *shape[:-1]]
    return f"input {list(shape)} looks channels last; convcost reads channels first, [channels, then each spatial size]: did you mean {turned}?"


def bind(nodes: tuple[Node, ...] | list[Node], shape: Shape) -> tuple[tuple[Node, ...], Shape]:
    """Bind every node to its input shape, in order; returns the bound nodes and the output shape."""
    bound: list[Node] = []
    for node in nodes:
        node = bind_node(node, shape)
        bound.append(node)
        shape = node.out_shape
    return tuple(bound), shape


def bind_node(node: Node, shape: Shape) -> Node:
    if isinstance(node, Leaf):
        if node.in_shape == shape:  # already bound to this shape (a rewrite keeps most layers); new leaves have ()
            return node
        try:
            op = node.op.bind(shape)
            out = op.out_shape(shape)
        except ConvcostError as exc:
            arg = exc.path
            mark = node.arg_marks.get(arg) if (node.arg_marks and arg) else None
            raise exc.located(f"{node.path}.{node.op.kind}", mark or node.mark) from None
        return node._replace(op=op, in_shape=shape, out_shape=out)
    if isinstance(node, Residual):
        body, body_out = bind(node.body, shape)
        shortcut, short_out = bind(node.shortcut, shape)
        if body_out != short_out:
            raise ConvcostError(f"residual body gives {list(body_out)} but the shortcut gives {list(short_out)}; "
                                "they must match to be added", path=node.path, mark=node.mark)  # fmt: skip
        if node.in_shape == shape and same_nodes(body, node.body) and same_nodes(shortcut, node.shortcut):
            return node
        return node._replace(body=body, shortcut=shortcut, in_shape=shape, out_shape=body_out)
    branches, outs = [], []
    for branch in node.branches:
        bound_branch, out = bind(branch, shape)
        branches.append(bound_branch)
        outs.append(out)
    for i, out in enumerate(outs):
        if out[1:] != outs[0][1:]:
            raise ConvcostError(f"concat branch {i} gives {list(out)} but branch 0 gives {list(outs[0])}; "
                                "spatial shapes must match", path=node.path, mark=node.mark)  # fmt: skip
    if node.in_shape == shape and all(map(same_nodes, branches, node.branches)):
        return node
    out_shape = (sum(o[0] for o in outs), *outs[0][1:])
    return node._replace(branches=tuple(branches), in_shape=shape, out_shape=out_shape)


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
