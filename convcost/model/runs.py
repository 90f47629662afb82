"""Gridding runs of a program (SPEC §2): consecutive stride-1 convs (norms and activations
between them allowed) containing a dilation above 1, each checked on its own input."""

from __future__ import annotations

from typing import NamedTuple

from ..kinds.merge import Add
from .program import Program
from .rf import AxisField, ClosedAxis, Down


class Run(NamedTuple):
    names: tuple[str, ...]  #: the layers of the run, by name
    kernels: tuple[tuple[int, ...], ...]  #: per layer, per axis
    rates: tuple[tuple[int, ...], ...]  #: per layer, per axis
    sizes: tuple[int, ...]  #: receptive field of the run alone, per axis
    holes: tuple[int, ...]  #: unread offsets inside that field, per axis (-1: some, not counted: too large)

    @property
    def grids(self) -> bool:
        return any(self.holes)


def _check(convs: list[tuple[str, tuple[tuple[int, int], ...]]]) -> Run:
    ndim = len(convs[0][1])
    sizes, holes = [], []
    for axis in range(ndim):
        field: AxisField | ClosedAxis = AxisField()
        for _, taps in convs:
            k, d = taps[axis]
            field = field.then(Down(k, 1, d, 0))
        if isinstance(field, ClosedAxis):  # too large to enumerate: whether it has holes, not how many
            sizes.append(field.extent)
            holes.append(0 if _contiguous([taps[axis] for _, taps in convs]) else -1)
            continue
        footprint = field.footprint()
        sizes.append(footprint.bit_length())
        holes.append(footprint.bit_length() - footprint.bit_count())
    return Run(tuple(p for p, _ in convs), tuple(tuple(k for k, _ in t) for _, t in convs),
               tuple(tuple(d for _, d in t) for _, t in convs), tuple(sizes), tuple(holes))  # fmt: skip


def _contiguous(taps: list[tuple[int, int]]) -> bool:
    """Whether the sums of one tap j·d (j < k) per layer fill an interval: in ascending order of
    d, each d is at most one past the span the smaller ones reach (the HDC closed form, for any k)."""
    reach = 0
    for k, d in sorted(taps, key=lambda t: t[1]):
        if k > 1 and d > reach + 1:
            return False
        reach += (k - 1) * d
    return True


def _transparent_joins(program: Program, readers: list[int]) -> dict[int, int]:
    """The ``x + body(x)`` joins whose body is a plain chain of run layers from x (an identity
    shortcut): join step → the body's first step. Dilated convs in consecutive residual blocks
    are checked together, as their footprints compose: adding x adds only the centre offset to
    the body's footprint, which every tap set already holds."""
    first_input = len(program.inputs)
    found: dict[int, int] = {}
    for j, step in enumerate(program.steps):
        if not (isinstance(step.op, Add) and len(step.inputs) == 2):
            continue
        a, x = step.inputs
        if a == x or readers[x] != 2 or a < first_input:
            continue
        k = a - first_input
        while True:
            body = program.steps[k]
            if len(body.inputs) != 1 or body.op.run_taps() is None:
                break
            (u,) = body.inputs
            if u == x:
                found[j] = k
                break
            if u < first_input or readers[u] != 1:
                break
            k = u - first_input
    return found


def dilated_runs(program: Program) -> list[Run]:
    """Every run of two or more stride-1 convs with a dilation > 1, along every path: a run goes
    on from a layer to each run layer reading it (a fork gives each path its own run), through an
    identity residual whose body is a plain run, and ends at any other layer (a strided conv, a
    pool, a join). A run every reader extends is reported as part of theirs only."""
    readers = program.readers()
    joins = _transparent_joins(program, readers)
    continues = set(joins.values())
    first_input = len(program.inputs)
    outputs = set(program.outputs)
    Chain = list[tuple[str, tuple[tuple[int, int], ...]]]
    chains: list[Chain | None] = [None] * first_input
    ends: dict[int, int] = {}  #: id of a chain → the last step holding it
    held: dict[int, Chain] = {}
    taken: dict[int, int] = {}  #: id of a chain → readers of its last tensor that extend it
    for j, step in enumerate(program.steps):
        chain = None
        if j in joins:
            chain = chains[step.inputs[0]]
        elif len(step.inputs) == 1 and (taps := step.op.run_taps()) is not None:
            (u,) = step.inputs
            chain = chains[u]
            if chain is None:
                chain = []
            else:
                taken[id(chain)] = taken.get(id(chain), 0) + 1
                if (readers[u] > 1 or u in outputs) and j not in continues:
                    chain = list(chain)  # a fork (or an output read on): each path checks its own run
            if taps:
                chain.append((step.name, taps))
        if chain is not None:
            ends[id(chain)] = j
            held[id(chain)] = chain
        chains.append(chain)
    found = []
    for key in sorted(held, key=ends.__getitem__):
        run, end = held[key], first_input + ends[key]
        if readers[end] > 1 and taken.get(key, 0) == readers[end] and end not in outputs:
            continue  # every path from here extends it
        if len(run) >= 2 and any(d > 1 for _, taps in run for _, d in taps):
            found.append(_check(run))
    return found
