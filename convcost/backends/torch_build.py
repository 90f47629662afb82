"""A bound Stack → an equivalent ``torch.nn.Module``: each leaf is its kind's own ``torch_module``
(built from ``ops.torch_modules``), residuals and concats as modules of their own.

Used to execute stacks and, in the tests, as the independent truth for params
(``sum(p.numel())``), flops (``FlopCounterMode``) and output shapes.
"""

from __future__ import annotations

import torch
from torch import nn

from ..kinds import Kind, Shape
from ..model.graph import Concat, Leaf, Node, Residual, Stack


def leaf_module(op: Kind, shape: Shape) -> nn.Module:
    """The torch module for one bound leaf with input ``shape`` (no batch): the kind's own."""
    return op.torch_module(shape)  # type: ignore[no-any-return]  # kinds return Any: torch is not imported by kinds/


class Sequence(nn.Module):
    """Runs nodes in order; ``taps`` (when set) collects every node's output by path."""

    def __init__(self, nodes: tuple[Node, ...]) -> None:
        super().__init__()
        self.paths = [n.path for n in nodes]
        self.kinds = [type(n).__name__ for n in nodes]
        self.items = nn.ModuleList(build_node(n) for n in nodes)
        self.taps: dict[str, torch.Tensor] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for path, module in zip(self.paths, self.items):
            x = module(x)
            if self.taps is not None:
                self.taps[path] = x
        return x


class ResidualModule(nn.Module):
    def __init__(self, node: Residual) -> None:
        super().__init__()
        self.body, self.shortcut = Sequence(node.body), Sequence(node.shortcut)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.shortcut(x)  # type: ignore[no-any-return]  # torch modules are untyped calls


class ConcatModule(nn.Module):
    def __init__(self, node: Concat) -> None:
        super().__init__()
        self.branches = nn.ModuleList(Sequence(b) for b in node.branches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([b(x) for b in self.branches], dim=1)


def build_node(node: Node) -> nn.Module:
    if isinstance(node, Leaf):
        return leaf_module(node.op, node.in_shape)
    if isinstance(node, Residual):
        return ResidualModule(node)
    return ConcatModule(node)


def build(stack: Stack) -> Sequence:
    """The whole stack as a module in eval mode (dropout off, batch-norm uses running stats)."""
    return Sequence(stack.layers).eval()


def sequences(module: nn.Module) -> list[Sequence]:
    return [m for m in module.modules() if isinstance(m, Sequence)]
