"""Gridding runs of a stack (SPEC §2): consecutive stride-1 convs (norms and activations
between them allowed) containing a dilation above 1, each checked on its own input."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from .graph import Leaf, Node, Residual, children
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


def _transparent(node: Node) -> bool:
    """A residual with an identity shortcut whose body is a plain stride-1 run (so dilated convs
    in consecutive residual blocks are checked together, as their footprints compose)."""
    return (isinstance(node, Residual) and not node.shortcut
            and all(isinstance(n, Leaf) and n.op.run_taps() is not None for n in node.body))  # fmt: skip


def _inlined(nodes: tuple[Node, ...]) -> Iterator[Node]:
    """The nodes, with each transparent residual replaced by its body: x + body(x) adds only the
    centre offset to the body's footprint, which every tap set already holds."""
    for node in nodes:
        if _transparent(node):
            yield from node.body  # type: ignore[union-attr]  # _transparent checked it is a Residual
        else:
            yield node


def dilated_runs(nodes: tuple[Node, ...]) -> list[Run]:
    """Every run of two or more stride-1 convs with a dilation > 1, in every node list."""
    found: list[Run] = []
    run: list[tuple[str, tuple[tuple[int, int], ...]]] = []

    def close() -> None:
        if len(run) >= 2 and any(d > 1 for _, taps in run for _, d in taps):
            found.append(_check(run))
        run.clear()

    for node in _inlined(nodes):
        taps = node.op.run_taps() if isinstance(node, Leaf) else None
        if taps is None:
            close()
            for inner in children(node):
                found.extend(dilated_runs(inner))
        elif taps:
            run.append((node.name, taps))
    close()
    return found
