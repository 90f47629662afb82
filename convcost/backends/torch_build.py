"""A bound Stack → an equivalent ``torch.nn.Module`` that runs its program: each step is its
kind's own ``torch_module`` (built from ``ops.torch_modules``), joins included.

Used to execute stacks and, in the tests, as the independent truth for params
(``sum(p.numel())``), flops (``FlopCounterMode``) and output shapes.
"""

from __future__ import annotations

import torch
from torch import nn

from ..kinds import Kind, Shape
from ..model.graph import Stack
from ..model.program import Program, lower


def leaf_module(op: Kind, shape: Shape) -> nn.Module:
    """The torch module for one bound step with (first) input ``shape`` (no batch): the kind's own."""
    return op.torch_module(shape)  # type: ignore[no-any-return]  # kinds return Any: torch is not imported by kinds/


class ProgramModule(nn.Module):
    """Runs the program's steps in order on its inputs; returns its output (a tuple when it has
    several). ``taps`` (when set) collects every step's output by path."""

    def __init__(self, program: Program) -> None:
        super().__init__()
        self.paths = [s.path for s in program.steps]
        self.reads = [s.inputs for s in program.steps]
        self.outputs = program.outputs
        self.items = nn.ModuleList(leaf_module(s.op, s.in_shape) for s in program.steps)
        self.taps: dict[str, torch.Tensor] | None = None

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        tensors = list(inputs)
        for path, reads, module in zip(self.paths, self.reads, self.items):
            y = module(*(tensors[t] for t in reads))
            tensors.append(y)
            if self.taps is not None:
                self.taps[path] = y
        outs = tuple(tensors[t] for t in self.outputs)
        return outs[0] if len(outs) == 1 else outs


def build(stack: Stack) -> ProgramModule:
    """The whole stack as a module in eval mode (dropout off, batch-norm uses running stats)."""
    return ProgramModule(lower(stack)).eval()


def sequences(module: nn.Module) -> list[ProgramModule]:
    """The program modules inside ``module`` (each can collect its steps' outputs in ``taps``)."""
    return [m for m in module.modules() if isinstance(m, ProgramModule)]
