"""A layered drawing of the program, computed here (no JavaScript library): every tensor a box,
ranked by its longest path from the inputs, ordered within a rank by the mean position of what
it reads (one barycentre sweep, as Sugiyama's method starts), and every read an edge from the
bottom of one box to the top of the other. Linear in the program's size; pure."""

from __future__ import annotations

from typing import NamedTuple

from ..model.program import Program

WIDTH, HEIGHT = 188, 50  #: a box, in SVG units
GAP, RANKSEP = 24, 40  #: between boxes of a rank, and between ranks
MARGIN = 16


class Box(NamedTuple):
    x: float  #: its left edge
    y: float  #: its top edge


class Layout(NamedTuple):
    boxes: tuple[Box, ...]  #: per tensor (inputs, then one per step)
    edges: tuple[tuple[int, int], ...]  #: (tensor read, tensor of the reading step)
    width: float
    height: float


def layout(program: Program) -> Layout:
    n = len(program.inputs)
    rank = [0] * n
    for step in program.steps:
        rank.append(1 + max((rank[t] for t in step.inputs), default=-1))
    reads = [()] * n + [step.inputs for step in program.steps]
    ranks: dict[int, list[int]] = {}
    for t, r in enumerate(rank):
        ranks.setdefault(r, []).append(t)
    slot = [0.0] * len(rank)
    widest = max(len(members) for members in ranks.values())
    for r in sorted(ranks):
        members = ranks[r]
        if r:
            members.sort(key=lambda t: sum(slot[u] for u in reads[t]) / len(reads[t]) if reads[t] else 0.0)
        offset = (widest - len(members)) / 2  # centre each rank under the widest
        for i, t in enumerate(members):
            slot[t] = offset + i
    boxes = tuple(Box(MARGIN + slot[t] * (WIDTH + GAP), MARGIN + rank[t] * (HEIGHT + RANKSEP)) for t in range(len(rank)))
    edges = tuple((t, n + j) for j, step in enumerate(program.steps) for t in step.inputs)
    height = 2 * MARGIN + (max(rank, default=0) + 1) * (HEIGHT + RANKSEP) - RANKSEP
    return Layout(boxes, edges, 2 * MARGIN + widest * (WIDTH + GAP) - GAP, height)
