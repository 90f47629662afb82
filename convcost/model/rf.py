"""Receptive fields and coverage, exactly, per spatial axis.

Araujo et al. (Distill 2019): r = 1 + Σ (k_l − 1)·Π_{i<l} s_i, S = Π s_l, P = Σ p_l·Π_{i<l} s_i,
with the dilated kernel d(k − 1) + 1; the field of output u starts at input u·S − P.

Beyond the size we keep the *footprint*: the set of input offsets (from the field's start) that
one output actually reads, as a bitset in a Python int. Through a layer of taps j·d (j < k) it
becomes ∪_j F << (j·d·S) — a Minkowski sum — so holes (gridding) are seen exactly and the cost
stays linear in the number of layers. Up-sampling layers (transposed convs, upsample) read a
phase-dependent set of inputs; they are kept as steps of a chain that maps a set of output
positions back to the inputs it reads, taking the phase that reads the most (SPEC: a window of
r outputs of a transposed conv reads at most ⌈(r + k − 1)/s⌉ inputs).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import NamedTuple, Union

MAX_BITS = 1 << 20  #: footprints are kept as bitsets up to this many offsets per axis
MAX_WORK = 4_000_000  #: position × tap visits one up-sampling step may take


class FieldTooLarge(Exception):
    """A footprint past MAX_BITS offsets (or too costly to map back): from here the field is
    kept in closed form (size, stride, padding) and its coverage is not computed."""


def _ap_sum(footprint: int, shift: int, k: int) -> int:
    """∪_{j<k} footprint << (j·shift), by doubling: O(log k) big-integer operations."""
    result, block, span = 0, footprint, 1  # block = ∪_{j<span} footprint << (j·shift)
    done = 0
    while k:
        if k & 1:
            result |= block << (done * shift)
            done += span
        k >>= 1
        if k:
            block |= block << (span * shift)
            span *= 2
    return result


class Down(NamedTuple):
    """A window of ``k`` taps ``d`` apart, stride ``s``, left padding ``lo`` (conv, pool)."""

    k: int = 1
    s: int = 1
    d: int = 1
    lo: int = 0


def exact(value: Fraction | int) -> Fraction | int:
    """An integral Fraction as an int: fields of plain stacks stay in ints, which are ~10× cheaper
    than Fractions; only up-sampling makes strides and paddings fractional."""
    return value.numerator if value.denominator == 1 else value


class Up(NamedTuple):
    """Up-sampling by ``s``: a transposed conv (k, d, left padding lo) or nearest/bilinear upsample."""

    mode: str  # "transposed" | "nearest" | "bilinear"
    s: int
    k: int = 1
    d: int = 1
    lo: int = 0

    def offset(self) -> Fraction | int:
        """The layer's own effective padding p_l, in its input's units."""
        if self.mode == "transposed":
            return exact(Fraction(self.d * (self.k - 1) - self.lo, self.s))
        if self.mode == "bilinear":
            return exact(Fraction(self.s - 1, 2 * self.s))
        return 0

    def reads(self, out_positions: int, phase: int) -> int:
        """Bitset of the inputs read by the outputs in ``out_positions`` (bitset, first at ``phase``)."""
        found: set[int] = set()
        for w in _bits(out_positions):
            o = phase + w
            if self.mode == "transposed":
                for j in range(self.k):
                    t = o + self.lo - j * self.d
                    if t % self.s == 0:
                        found.add(t // self.s)
            elif self.mode == "nearest":
                found.add(o // self.s)
            else:  # bilinear, align_corners=False: x = (o + ½)/s − ½ reads ⌊x⌋ and, unless exact, ⌊x⌋ + 1
                x = Fraction(2 * o + 1 - self.s, 2 * self.s)
                found.add(x.numerator // x.denominator)
                if x.denominator != 1:
                    found.add(x.numerator // x.denominator + 1)
        if not found:  # e.g. odd outputs of a stride-2, dilation-2 transposed conv read nothing
            return 0
        low = min(found)
        bitset = 0
        for i in found:
            bitset |= 1 << (i - low)
        return bitset


Step = Union[Down, Up]
IDENTITY = Down()


class Affine(NamedTuple):
    """A run of integer-stride layers: cumulative stride S and footprint F (bit i = offset i)."""

    S: int
    F: int

    def then(self, step: Down) -> Affine:
        shift = step.d * self.S
        if self.F.bit_length() + shift * (step.k - 1) > MAX_BITS:
            raise FieldTooLarge
        if self.F & (self.F + 1) == 0 and shift <= self.F.bit_length():  # contiguous stays contiguous
            footprint = (1 << (self.F.bit_length() + shift * (step.k - 1))) - 1
        else:
            footprint = _ap_sum(self.F, shift, step.k)
        return Affine(self.S * step.s, footprint)

    def reads(self, out_positions: int) -> int:
        if out_positions == 1:
            return self.F
        if out_positions.bit_length() * self.S + self.F.bit_length() > MAX_BITS:
            raise FieldTooLarge
        if out_positions & (out_positions + 1) == 0:  # a contiguous window of outputs
            return _ap_sum(self.F, self.S, out_positions.bit_length())
        if out_positions.bit_count() * (self.F.bit_length() // 64 + 1) > MAX_WORK:
            raise FieldTooLarge
        bitset = 0
        for w in _bits(out_positions):
            bitset |= self.F << (w * self.S)
        return bitset


def _bits(bitset: int) -> list[int]:
    return [i for i in range(bitset.bit_length()) if bitset >> i & 1]


class ClosedAxis(NamedTuple):
    """A field too large to enumerate: Araujo et al.'s closed form, r = 1 + Σ (k − 1)·d·S_{<l}
    (with up-sampling strides as fractions), rounded up; no footprint, so no coverage."""

    size: Fraction | int
    stride: Fraction | int
    padding: Fraction | int

    def then(self, step: Step) -> ClosedAxis:
        if isinstance(step, Up):
            stride = exact(Fraction(self.stride) / step.s)
            return ClosedAxis(self.size + (step.k - 1) * step.d * stride, stride, self.padding + step.offset() * self.stride)
        return ClosedAxis(self.size + (step.k - 1) * step.d * self.stride, self.stride * step.s, self.padding + step.lo * self.stride)

    @property
    def extent(self) -> int:
        return math.ceil(self.size)


class AxisField(NamedTuple):
    """The receptive field along one axis of one layer's output, w.r.t. the network input."""

    chain: tuple[Affine | Up, ...] = (Affine(1, 1),)
    stride: Fraction | int = 1
    padding: Fraction | int = 0
    closed: ClosedAxis = ClosedAxis(1, 1, 0)  #: the same field in closed form

    def then(self, step: Step) -> AxisField | ClosedAxis:
        closed = self.closed.then(step)
        if isinstance(step, Up):
            if step.s > MAX_BITS:
                return closed
            return AxisField(
                self.chain + (step,), exact(Fraction(self.stride) / step.s), self.padding + step.offset() * self.stride, closed
            )
        last = self.chain[-1]
        try:
            chain = self.chain[:-1] + (last.then(step),) if isinstance(last, Affine) else self.chain + (Affine(1, 1).then(step),)
        except FieldTooLarge:
            return closed
        return AxisField(chain, self.stride * step.s, self.padding + step.lo * self.stride, closed)

    def footprint(self) -> int:
        """Bitset of the input offsets one output reads (the phase reading most at each up-sampling);
        FieldTooLarge when that is too large or too costly to find."""
        positions = 1
        for element in reversed(self.chain):
            if isinstance(element, Affine):
                positions = element.reads(positions)
            else:
                if element.s * positions.bit_count() * max(element.k, 1) > MAX_WORK:
                    raise FieldTooLarge
                options = (element.reads(positions, phase) for phase in range(element.s))
                positions = max(options, key=lambda b: (b.bit_length(), b.bit_count()))
        return positions

    @property
    def simple(self) -> bool:
        return len(self.chain) == 1


def _extent(axis: AxisField | ClosedAxis) -> tuple[int, int | None]:
    """(size, footprint bitset or None when only the closed form is known) of one axis."""
    if isinstance(axis, AxisField):
        try:
            fp = axis.footprint()
            return fp.bit_length(), fp
        except FieldTooLarge:
            axis = axis.closed
    return axis.extent, None


class Field(NamedTuple):
    """Receptive field of one output, all spatial axes."""

    axes: tuple[AxisField | ClosedAxis, ...]

    @classmethod
    def start(cls, ndim: int) -> Field:
        return cls((AxisField(),) * ndim)

    def then(self, steps: tuple[Step, ...]) -> Field:
        return Field(tuple(a.then(s) for a, s in zip(self.axes, steps)))

    def summary(self) -> tuple[tuple[int, ...], tuple[Fraction | int, ...], tuple[Fraction | int, ...], Fraction | None]:
        """(size, stride, padding) per axis and the coverage (product over axes: kernels are grids;
        None when an axis is known in closed form only)."""
        sizes, read, spanned, known = [], 1, 1, True
        for axis in self.axes:
            size, fp = _extent(axis)
            sizes.append(size)
            if fp is None:
                known = False
            else:
                read, spanned = read * fp.bit_count(), spanned * max(fp.bit_length(), 1)
        coverage = Fraction(read, spanned) if known else None
        return tuple(sizes), tuple(a.stride for a in self.axes), tuple(a.padding for a in self.axes), coverage


def slack(axis: AxisField | ClosedAxis) -> Fraction | int:
    """How far (in input positions) the centre of an output's field moves with the output's phase
    after up-sampling: each up-sampling by s at stride S lets it move by S − S/s (outputs 2k and
    2k + 1 of a nearest ×2 read the same input). 0 without up-sampling (and in closed form)."""
    if isinstance(axis, ClosedAxis):
        return 0
    total: Fraction | int = 0
    stride: Fraction | int = 1
    for element in axis.chain:
        if isinstance(element, Affine):
            stride *= element.S
        else:
            after = exact(Fraction(stride) / element.s)
            total += stride - after
            stride = after
    return total


def merge(fields: list[Field]) -> tuple[Field, bool]:
    """Merge branch fields: union of footprints when they align exactly, else the largest.

    Returns the merged field and whether the branches' grids cannot align (a warning): their
    strides differ, or their centres cannot coincide at any phase of the up-sampling before
    them (a U-Net's or an FPN's nearest ×2 shifts a centre by less than that: no warning).
    """
    axes: list[AxisField | ClosedAxis] = []
    misaligned = False
    for per_axis in zip(*(f.axes for f in fields)):
        extents = [_extent(a) for a in per_axis]
        centres = [size - 1 - 2 * a.padding for a, (size, _) in zip(per_axis, extents)]  # twice the centre: exact in ints
        slacks = [2 * slack(a) for a in per_axis]
        strides = {a.stride for a in per_axis}
        apart = max(c - s for c, s in zip(centres, slacks)) > min(c + s for c, s in zip(centres, slacks))
        misaligned |= apart or len(strides) > 1
        if any(fp is None for _, fp in extents):
            axes.append(max((a if isinstance(a, ClosedAxis) else a.closed for a in per_axis), key=lambda c: c.size))
        elif len(strides) == 1 and all(isinstance(a, AxisField) and a.simple and a.padding.denominator == 1 for a in per_axis):
            top = max(a.padding for a in per_axis)
            footprint = 0
            for a in per_axis:
                footprint |= a.chain[0].F << int(top - a.padding)
            closed = max((a.closed for a in per_axis), key=lambda c: c.size)
            axes.append(AxisField((Affine(per_axis[0].chain[0].S, footprint),), per_axis[0].stride, top, closed))
        else:
            axes.append(max(zip(per_axis, extents), key=lambda pair: pair[1][0])[0])
    return Field(tuple(axes)), misaligned
