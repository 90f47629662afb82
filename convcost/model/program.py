"""The Program: a model as every walker reads it (DESIGN.md, SPEC §8).

Nodes in topological order, each one kind with the tensors it reads and its one output. Tensors
are numbered: the model's inputs first (0 … I−1), then node j's output is tensor I + j. The
tree syntax lowers into it with its names and paths: a leaf is one node; a ``residual`` is its
body's and shortcut's nodes, then a join (kind ``residual``, body + shortcut); a ``concat`` is its
branches' nodes, then a join (kind ``concat``). Analysis, receptive fields, gridding, liveness,
execution and export are functions over it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from ..errors import Mark
from ..kinds import Kind, Shape
from ..kinds.merge import Concatenate
from ..kinds.merge import Residual as ResidualJoin
from .graph import PREVIOUS, Budget, Concat, Leaf, Node, Residual, Stack, key_of


class Step(NamedTuple):
    """One node of the program."""

    path: str
    name: str
    op: Kind
    inputs: tuple[int, ...]  #: the tensors it reads
    in_shapes: tuple[Shape, ...]
    out_shape: Shape
    mark: Mark | None = None

    @property
    def in_shape(self) -> Shape:
        """Its first input's shape (the one its kind's formulas take)."""
        return self.in_shapes[0]


class Program(NamedTuple):
    name: str
    inputs: tuple[tuple[str, Shape], ...]  #: (name, shape) of each input, tensors 0 … I−1
    steps: tuple[Step, ...]
    outputs: tuple[int, ...]  #: the tensors the model returns
    budget: Budget = Budget()
    source: str | None = None

    def shape(self, tensor: int) -> Shape:
        first = len(self.inputs)
        return self.inputs[tensor][1] if tensor < first else self.steps[tensor - first].out_shape

    def tensor(self, step: int) -> int:
        """The tensor step ``step`` computes."""
        return len(self.inputs) + step

    def readers(self) -> list[int]:
        """How many steps read each tensor (a step reading one tensor twice counts once)."""
        counts = [0] * (len(self.inputs) + len(self.steps))
        for step in self.steps:
            for t in set(step.inputs):
                counts[t] += 1
        return counts

    def upstream(self, tensors: Iterable[int]) -> set[int]:
        """``tensors`` and every tensor they are computed from."""
        found: set[int] = set()
        todo = list(tensors)
        while todo:
            t = todo.pop()
            if t not in found:
                found.add(t)
                if t >= len(self.inputs):
                    todo.extend(self.steps[t - len(self.inputs)].inputs)
        return found

    def last_use(self) -> list[int]:
        """For each tensor, the last step that reads it (-1: none); an output lives to the end."""
        last = [-1] * (len(self.inputs) + len(self.steps))
        for j, step in enumerate(self.steps):
            for t in step.inputs:
                last[t] = j
        for t in self.outputs:
            last[t] = len(self.steps)
        return last


def lower(stack: Stack) -> Program:
    """The bound tree as a program, its nodes in the tree's order (composites after their parts)."""
    ndim = stack.ndim
    inputs = stack.all_inputs
    tensors = {key: i for i, (key, _) in enumerate(inputs)}
    steps: list[Step] = []
    residual, concat = ResidualJoin(ndim=ndim), Concatenate(ndim=ndim, axis=0)

    def emit(node: Node, op: Kind, reads: tuple[int, ...]) -> int:
        t = len(inputs) + len(steps)
        shapes = tuple(inputs[r][1] if r < len(inputs) else steps[r - len(inputs)].out_shape for r in reads)
        steps.append(Step(node.path, node.name, op, reads, shapes, node.out_shape, node.mark))
        tensors[key_of(node)] = t
        return t

    def many(nodes: tuple[Node, ...], x: int) -> int:
        for node in nodes:
            x = one(node, x)
        return x

    def one(node: Node, x: int) -> int:
        reads = tuple(x if k == PREVIOUS else tensors[k] for k in node.sources) or (x,)
        if isinstance(node, Leaf):
            return emit(node, node.op, reads)
        if isinstance(node, Residual):
            body, shortcut = many(node.body, reads[0]), many(node.shortcut, reads[0])
            return emit(node, residual, (body, shortcut))
        assert isinstance(node, Concat)
        return emit(node, concat, tuple(many(branch, reads[0]) for branch in node.branches))

    last = many(stack.layers, 0)
    outputs = tuple(tensors[k] for k in stack.outputs) or (last,)
    return Program(stack.name, inputs, tuple(steps), outputs, stack.budget, stack.source)
