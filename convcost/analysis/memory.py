"""Peak activation memory under a runtime's memory plan, by liveness over the program.

A tensor's buffer is allocated when its step runs and freed after its last reader (outputs live
to the end; a tensor nothing reads is freed at once). A step's output may instead take over the
buffer of an input that dies at that step (nothing later reads it), which is how runtimes save
memory; the plans differ in which steps may:

- ``unfused`` — only the add that closes a residual, into its body's output (every other layer
  writes a tensor of its own, as PyTorch's eager modules do);
- ``fused`` — also a per-position layer (norm, activation, dropout…) right after a layer that
  computes (conv, linear, attention…) or an add: conv+bn+act, linear+bias+act and add+act leave
  one tensor, as TFLite, TensorRT and ONNX Runtime fuse them;
- ``inplace`` — also every per-position layer and every depthwise conv, over whatever input dies
  there (TinyEngine's in-place depthwise, MCUNetV2).

An output never takes a buffer smaller than itself. Counts are elements of one sample; the model's
inputs are alive from the start. Pure: no printing, no numpy, no torch.
"""

from __future__ import annotations

from typing import NamedTuple

from ..arith import prod
from ..kinds.merge import Add
from ..kinds.merge import Residual as ResidualJoin
from ..kinds.misc import Transparent
from ..model.graph import MEMORY_PLANS
from ..model.program import Program

PLANS = MEMORY_PLANS
DEFAULT = PLANS[0]


class Plan(NamedTuple):
    plan: str
    peak: int  #: elements alive at once, at most (one sample)
    at: int  #: the step during which the peak is reached (-1: the inputs alone)
    live: tuple[int, ...]  #: per step, the elements alive while it runs (its inputs and its output)


def _reuses(program: Program, plan: str, j: int, fused: set[int]) -> bool:
    step = program.steps[j]
    op = step.op
    if isinstance(op, ResidualJoin) or plan == "unfused":
        return isinstance(op, ResidualJoin)
    if not isinstance(op, Transparent):
        return plan == "inplace" and op.overwrites_input(step.in_shape)
    if plan == "inplace":
        return True
    producer = step.inputs[0] - len(program.inputs)  # fused: right after a layer that computes, an add, or a fused layer
    if producer < 0:
        return False
    before = program.steps[producer]
    return producer in fused or isinstance(before.op, Add) or before.op.macs(before.in_shape, before.out_shape) > 0  # add: residual too


class _Arena:
    """Buffers and the tensors in them, as the steps run."""

    def __init__(self, program: Program) -> None:
        self.buffer = list(range(len(program.inputs)))  #: per tensor, its buffer
        self.size = [prod(shape) for _, shape in program.inputs]  #: per buffer, its elements
        self.holders = [1] * len(program.inputs)  #: per buffer, the live tensors in it
        self.latest = list(range(len(program.inputs)))  #: per buffer, the last tensor written into it
        self.total = sum(self.size)

    def write(self, tensor: int, over: int | None, size: int) -> None:
        if over is not None and self.size[self.buffer[over]] >= size:
            b = self.buffer[over]
            self.holders[b] += 1
        else:
            b = len(self.size)
            self.size.append(size)
            self.holders.append(1)
            self.latest.append(tensor)
            self.total += size
        self.buffer.append(b)
        self.latest[b] = tensor

    def release(self, tensor: int) -> None:
        b = self.buffer[tensor]
        self.holders[b] -= 1
        if not self.holders[b]:
            self.total -= self.size[b]

    def alive(self) -> tuple[int, ...]:
        return tuple(sorted(self.latest[b] for b in range(len(self.size)) if self.holders[b]))


def _run(program: Program, plan: str, stop: int | None = None) -> tuple[list[int], _Arena]:
    """Run the plan (up to the step ``stop``, its output written, nothing freed): live per step."""
    last = program.last_use()
    arena = _Arena(program)
    fused: set[int] = set()
    live: list[int] = []
    for j, step in enumerate(program.steps):
        first = step.inputs[0] if step.inputs else None
        dies = first is not None and last[first] == j and first not in step.inputs[1:]
        over = first if dies and _reuses(program, plan, j, fused) else None
        if over is not None:
            fused.add(j)
        arena.write(program.tensor(j), over, prod(step.out_shape))
        live.append(arena.total)
        if j == stop:
            break
        for t in set(step.inputs):
            if last[t] == j:
                arena.release(t)
        if last[program.tensor(j)] == -1:  # read by nothing and not an output: freed at once
            arena.release(program.tensor(j))
    return live, arena


def memory_plan(program: Program, plan: str = DEFAULT) -> Plan:
    """The peak of ``plan``, where it is reached, and the live elements per step."""
    if plan not in PLANS:
        raise ValueError(f"memory plan {plan!r}: expected one of {', '.join(PLANS)}")
    live, _ = _run(program, plan)
    start = sum(prod(shape) for _, shape in program.inputs)
    peak = max([start, *live])
    return Plan(plan, peak, -1 if peak == start else live.index(peak), tuple(live))


def alive_at_peak(program: Program, found: Plan) -> tuple[int, ...]:
    """The tensors whose buffers are alive at ``found``'s peak (the latest in each buffer): the plan
    run again up to that step (only where it is asked for: every analysis takes the peak)."""
    return tuple(range(len(program.inputs))) if found.at < 0 else _run(program, found.plan, found.at)[1].alive()
